/**
 * The HTTP contract between clusters (`/v1/replication/...`), shared by the routes
 * that serve it (change-routes.ts) and the client that calls it (remote-client.ts):
 *
 *   PUT /v1/replication/changes         TagChange → ChangeResult
 *       409 KRAKEN_TAG_REJECTED when a put's manifest closure is not on the receiver's
 *       origins (so a tag never appears before its blobs).
 *   GET /v1/replication/tags/:repository → VersionedTagList | 404 (backfill compares these)
 *   GET /v1/replication/cluster          → ClusterDescriptor (how a `discover` destination is found)
 */
import { z } from 'zod';
import { digestStringSchema, repositoryNameParamSchema, tagParamSchema } from '@kraken/oci-content';
import { manifestRecordSchema } from '../contracts.js';
import { CLUSTER_ID_PATTERN, versionSchema } from '../version/tag-version.js';

const clusterIdSchema = z.string().regex(CLUSTER_ID_PATTERN, 'must be a cluster id, [a-z0-9-]{1,63}');

/** One tag change carried from one cluster to another. */
export const tagChangeSchema = z
  .object({
    repository: repositoryNameParamSchema,
    tag: tagParamSchema,
    kind: z.enum(['put', 'delete']),
    digest: digestStringSchema.optional().describe('The manifest a put points the tag at.'),
    record: manifestRecordSchema
      .optional()
      .describe("The manifest's record (informational; the receiver derives its own)."),
    version: versionSchema,
    origin: clusterIdSchema.describe('The cluster where the change was first written.'),
    from: clusterIdSchema.describe('The cluster sending it.'),
  })
  .strict()
  .refine((change) => change.kind === 'delete' || change.digest !== undefined, {
    path: ['digest'],
    message: 'a put carries the digest',
  });
export type TagChange = z.output<typeof tagChangeSchema>;

export const changeResultSchema = z
  .object({
    applied: z.boolean().describe('False when the receiver already held this change or a newer one.'),
    current: z
      .object({ digest: z.string().optional(), version: z.string(), deleted: z.boolean() })
      .strict()
      .optional()
      .describe('What the receiver holds for the tag now: its value, or its tombstone.'),
  })
  .strict();
export type ChangeResult = z.output<typeof changeResultSchema>;

export const versionedTagListSchema = z
  .object({
    tags: z.array(z.object({ tag: z.string(), digest: z.string(), version: z.string() }).strict()),
    deleted: z.array(z.object({ tag: z.string(), version: z.string() }).strict()),
  })
  .strict();
export type VersionedTagList = z.output<typeof versionedTagListSchema>;

export const clusterDescriptorSchema = z
  .object({
    clusterId: clusterIdSchema,
    buildIndex: z.array(z.string()).min(1).describe('Base URLs of every build-index node of the cluster.'),
    origins: z
      .object({ nodes: z.array(z.string()).min(1), replicas: z.number().int().min(1) })
      .strict()
      .describe("The cluster's origin ring."),
  })
  .strict();
export type ClusterDescriptor = z.output<typeof clusterDescriptorSchema>;
