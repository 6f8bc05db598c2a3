/**
 * Replication rules and the build-index's `replication:` config block, as zod schemas:
 * the single source for the config file, the `/v1/replication/rules` API (both
 * validate with `replicationRuleSchema`), the config reference docs and the
 * operator's `ReplicationRule` resource.
 *
 * A rule copies the tags of matching repositories (and optionally only matching tags)
 * to one destination cluster. Patterns are regular expressions anchored at both ends:
 * `team/.*` matches `team/app` and not `other/team/app`.
 */
import { z } from 'zod';
import { CLUSTER_ID_PATTERN } from '../version/tag-version.js';

/** A pattern that compiles, anchored: `^(?:pattern)$`. */
const patternSchema = (what: string) =>
  z
    .string()
    .min(1)
    .max(1024)
    .superRefine((pattern, ctx) => {
      try {
        anchored(pattern);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
      }
    })
    .describe(`Regular expression over ${what}, anchored at both ends.`);

export const destinationSchema = z
  .object({
    discover: z
      .url()
      .optional()
      .describe(
        "Base URL of one build-index of the destination cluster; its `GET /v1/replication/cluster` names the cluster's build-index nodes and origin ring. Set this, or `buildIndex` and `origins`.",
      ),
    buildIndex: z
      .array(z.url())
      .min(1)
      .optional()
      .describe("Base URLs of the destination cluster's build-index nodes."),
    origins: z
      .object({
        nodes: z
          .array(z.string().min(1))
          .min(1)
          .describe('The destination origin ring\'s members: "host:port" or "http(s)://host:port".'),
        replicas: z
          .number()
          .int()
          .min(1)
          .default(3)
          .describe("Owners per blob on the destination ring; must match the destination origins' own."),
      })
      .strict()
      .optional()
      .describe("The destination cluster's origin ring, where blobs are copied to."),
  })
  .strict()
  .superRefine((destination, ctx) => {
    const explicit = destination.buildIndex !== undefined || destination.origins !== undefined;
    if (destination.discover !== undefined && explicit) {
      ctx.addIssue({
        code: 'custom',
        path: ['discover'],
        message: 'set either `discover`, or `buildIndex` and `origins`',
      });
    } else if (destination.discover === undefined) {
      if (destination.buildIndex === undefined)
        ctx.addIssue({ code: 'custom', path: ['buildIndex'], message: 'required unless `discover` is set' });
      if (destination.origins === undefined)
        ctx.addIssue({ code: 'custom', path: ['origins'], message: 'required unless `discover` is set' });
    }
  })
  .describe(
    'The remote cluster: one address it is discovered from (`discover`), or its build-index nodes and origin ring.',
  );

export const replicationRuleSchema = z
  .object({
    name: z
      .string()
      .regex(CLUSTER_ID_PATTERN, 'must be 1-63 characters of [a-z0-9-]')
      .describe('Unique name of the rule, [a-z0-9-]{1,63}.'),
    repositories: patternSchema('repository names'),
    tags: patternSchema('tags')
      .optional()
      .describe('Only tags matching this anchored regular expression; all tags when unset.'),
    destination: destinationSchema,
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
  .describe('A replication rule: matching tags of matching repositories go to the destination cluster.');

export type ReplicationRule = z.output<typeof replicationRuleSchema>;
export type ReplicationRuleInput = z.input<typeof replicationRuleSchema>;
export type ReplicationDestination = z.output<typeof destinationSchema>;

const retrySchema = z
  .object({
    initialMs: z
      .number()
      .int()
      .min(1)
      .default(1_000)
      .describe('Delay before the first retry of a task (ms).'),
    maxMs: z.number().int().min(1).default(60_000).describe('Upper bound of any retry delay (ms).'),
    multiplier: z.number().min(1).default(2).describe('Growth of the delay per failed attempt.'),
    jitter: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('Fraction of each delay taken off at random, so that retries spread out (0..1).'),
  })
  .strict()
  .prefault({})
  .describe(
    'Retries of failed tasks: capped exponential backoff with jitter; tasks retry until they succeed.',
  );

export const replicationConfigSchema = z
  .object({
    clusterId: z
      .string()
      .regex(CLUSTER_ID_PATTERN, 'must be 1-63 characters of [a-z0-9-]')
      .default('default')
      .describe(
        "This cluster's id: part of every tag version, and how other clusters know where a change came from.",
      ),
    advertiseUrl: z
      .url()
      .optional()
      .describe(
        "This node's base URL as its peers list it in `cluster.peers` (default: from `listen`). Names the node in versions, in backfill ownership and in `GET /v1/replication/cluster`.",
      ),
    dbPath: z
      .string()
      .min(1)
      .optional()
      .describe(
        'SQLite file of the durable task queue (WAL, synchronous=FULL); one per node. Default: `replication.db` in the storage root with filesystem storage (`.devcluster/build-index-0/replication.db` by default), else `.devcluster/build-index-0/replication.db`.',
      ),
    concurrency: z.number().int().min(1).max(256).default(4).describe('Replication tasks in flight at once.'),
    blobConcurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Blobs one task checks and copies at once.'),
    backfillIntervalSeconds: z
      .number()
      .int()
      .min(0)
      .default(60)
      .describe(
        'Seconds between backfill sweeps, which compare tag listings with each destination and queue what it lacks; they also run at start, when a rule is created or enabled, and when a destination recovers. 0 runs them only then.',
      ),
    backfillRepositoriesPerSecond: z
      .number()
      .min(0)
      .default(50)
      .describe('Destination tag listings a backfill sweep asks for per second, per rule; 0 is unlimited.'),
    requestTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(30_000)
      .describe(
        'Time a request to a destination cluster (or to a peer, for rules, at most 5 s) may take to start answering, and each pause in its body (ms).',
      ),
    rulesRefreshSeconds: z
      .number()
      .min(0.1)
      .default(5)
      .describe(
        'Seconds between re-reads of the rules (storage and peers), so that every node applies the same rules.',
      ),
    retry: retrySchema,
    rules: z
      .array(replicationRuleSchema)
      .default([])
      .describe(
        'Rules from this file (`source: config`): the API lists them but refuses to replace or delete them.',
      ),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.rules.forEach((rule, i) => {
      if (seen.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name ${rule.name}`,
        });
      seen.add(rule.name);
    });
  })
  .prefault({})
  .describe('Cross-cluster replication of tags by rules, through a durable queue.');

export type ReplicationConfig = z.output<typeof replicationConfigSchema>;

/** Where the queue lives when `dbPath` is not set and the storage is not a filesystem. */
export const DEFAULT_REPLICATION_DB_PATH = '.devcluster/build-index-0/replication.db';

/** Compiles a rule pattern anchored at both ends. */
export function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** A rule with its patterns compiled once. */
export interface CompiledRule {
  readonly rule: ReplicationRule;
  matchesRepository(repository: string): boolean;
  matchesTag(tag: string): boolean;
}

export function compileRule(rule: ReplicationRule): CompiledRule {
  const repositories = anchored(rule.repositories);
  const tags = rule.tags === undefined ? undefined : anchored(rule.tags);
  return {
    rule,
    matchesRepository: (repository) => repositories.test(repository),
    matchesTag: (tag) => tags === undefined || tags.test(tag),
  };
}

/**
 * A stable key of a destination: tasks queued for a rule belong to the destination
 * they were queued for, and are dropped when the rule points elsewhere.
 */
export function destinationKey(destination: ReplicationDestination): string {
  if (destination.discover !== undefined) return `discover:${destination.discover.replace(/\/+$/, '')}`;
  const buildIndex = (destination.buildIndex ?? []).map((url) => url.replace(/\/+$/, '')).join(',');
  const origins = destination.origins;
  return `static:${buildIndex};${origins?.nodes.join(',') ?? ''};${origins?.replicas ?? ''}`;
}

/** Zod issues as "path: message" lines, unknown keys named one by one (as the config loader does). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { path: string; message: string }[] {
  return issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: base ? `${base}.${key}` : key, message: 'unknown key' }));
    return [{ path: base || '(root)', message: issue.message }];
  });
}
