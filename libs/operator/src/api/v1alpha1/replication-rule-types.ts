/**
 * The ReplicationRule resource (kraken.dev/v1alpha1): tags of matching repositories in
 * one KrakenCluster (`cluster`, same namespace) are copied, with their content, to
 * another cluster. It is a build-index replication rule (libs/build-index,
 * rule-config.ts) made through the source build-index's `/v1/replication/rules` API,
 * so its fields are that rule's; the destination is the API's own (`discover`, or
 * `buildIndex` and `origins`) or, instead, a KrakenCluster of this Kubernetes cluster,
 * whose addresses the operator fills in.
 */
import { z } from 'zod';
import { conditionsSchema } from './conditions.js';
import { objectNameSchema } from './core-types.js';
import type { REPLICATION_RULE_KIND, KRAKEN_API_VERSION } from './group-version.js';
import type { ResourceMeta } from './kraken-cluster-types.js';

/** A JavaScript regular expression, anchored at both ends by the build-index. */
function patternSchema(what: string) {
  return z
    .string()
    .min(1)
    .max(1024)
    .superRefine((pattern, ctx) => {
      try {
        new RegExp(`^(?:${pattern})$`);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
      }
    })
    .describe(`Regular expression (JavaScript) over ${what}, anchored at both ends.`);
}

export const replicationDestinationSchema = z
  .object({
    cluster: z
      .object({
        name: objectNameSchema.describe('Name of the destination KrakenCluster.'),
        namespace: objectNameSchema
          .optional()
          .describe("Its namespace; the ReplicationRule's own when unset."),
      })
      .strict()
      .optional()
      .describe(
        'A KrakenCluster of this Kubernetes cluster. Set this, or `discover`, or `buildIndex` and `origins`.',
      ),
    discover: z
      .url()
      .optional()
      .describe(
        "Base URL of one build-index of a remote cluster; its `GET /v1/replication/cluster` names the cluster's build-index nodes and origin ring.",
      ),
    buildIndex: z
      .array(z.url())
      .min(1)
      .optional()
      .describe("Base URLs of the remote cluster's build-index nodes."),
    origins: z
      .object({
        nodes: z
          .array(z.string().min(1))
          .min(1)
          .describe('The remote origin ring\'s members: "host:port" or "http(s)://host:port".'),
        replicas: z
          .number()
          .int()
          .min(1)
          .default(3)
          .describe('Owners per blob on the remote ring; must match the remote origins’ own.'),
      })
      .strict()
      .optional()
      .describe("The remote cluster's origin ring, where blobs are copied to."),
  })
  .strict()
  .superRefine((destination, ctx) => {
    const explicit = destination.buildIndex !== undefined || destination.origins !== undefined;
    const ways = [destination.cluster !== undefined, destination.discover !== undefined, explicit];
    if (ways.filter(Boolean).length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set exactly one of `cluster`, `discover`, or `buildIndex` with `origins`',
      });
    } else if (explicit) {
      if (destination.buildIndex === undefined)
        ctx.addIssue({ code: 'custom', path: ['buildIndex'], message: 'required with `origins`' });
      if (destination.origins === undefined)
        ctx.addIssue({ code: 'custom', path: ['origins'], message: 'required with `buildIndex`' });
    }
  })
  .describe('Where the tags go: a KrakenCluster here, or a remote cluster by its addresses.');

export const replicationRuleSpecSchema = z
  .object({
    cluster: objectNameSchema.describe('The source KrakenCluster, in the namespace of the rule.'),
    repositories: patternSchema('repository names'),
    tags: patternSchema('tags')
      .optional()
      .describe('Only tags matching this anchored regular expression; all tags when unset.'),
    destination: replicationDestinationSchema,
    deletes: z.boolean().default(false).describe('Replicate tag deletions (as tombstones) too.'),
    bandwidthBytesPerSecond: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Blob bytes per second this rule may copy, over all its tasks; 0 is unlimited.'),
    enabled: z
      .boolean()
      .default(true)
      .describe('A disabled rule replicates nothing and drops its queued tasks.'),
  })
  .strict()
  .describe('Replication of matching tags, with their manifests and blobs, to another cluster.');

export type ReplicationRuleSpecInput = z.input<typeof replicationRuleSpecSchema>;
export type ReplicationRuleSpec = z.output<typeof replicationRuleSpecSchema>;

export const replicationRuleStatusSchema = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation last acted on.'),
    conditions: conditionsSchema,
    pending: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Changes queued and not yet replicated, over every build-index node.'),
    inFlight: z.number().int().min(0).default(0).describe('Changes being replicated now.'),
    failed: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Changes whose last attempt failed, waiting for their retry.'),
    lagSeconds: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Age of the oldest change not yet replicated; 0 when none.'),
    lastError: z
      .object({
        message: z.string().describe('What went wrong.'),
        at: z.string().meta({ format: 'date-time' }).describe('When (RFC 3339).'),
        repository: z.string().describe('Repository of the change that failed.'),
        tag: z.string().describe('Tag of the change that failed.'),
      })
      .strict()
      .optional()
      .describe('The latest failure of a change, and which tag it was.'),
    destinationClusterId: z.string().optional().describe('Cluster id of the destination, once it answered.'),
  })
  .strict()
  .describe('The observed state of the rule, from the source build-index.');

export type ReplicationRuleStatus = z.output<typeof replicationRuleStatusSchema>;

export interface ReplicationRule {
  readonly apiVersion: typeof KRAKEN_API_VERSION;
  readonly kind: typeof REPLICATION_RULE_KIND;
  readonly metadata: ResourceMeta;
  readonly spec: ReplicationRuleSpecInput;
  readonly status?: ReplicationRuleStatus;
}
