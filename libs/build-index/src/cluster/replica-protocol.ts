/**
 * The replication protocol between build-index nodes (`/v1/replica/...`): a tag value
 * with its version, pushed to every peer on each write, a tag deletion with its
 * version, and the per-repository listing (values and tombstones) the anti-entropy
 * sweep pulls. The newer version wins (version/tag-version.ts: a hybrid logical
 * clock, so a write that has seen another beats it whatever the clocks say); equal
 * versions, which only values stored before versions existed can share, fall back to
 * the larger digest so that every node picks the same winner whatever order the
 * writes arrive in. A deletion wins over every value whose version is not newer.
 *
 * `version` is optional on the wire and in storage for values written before
 * versions: theirs is derived from `updatedAt`/`deletedAt`.
 */
import { z } from 'zod';
import { digestStringSchema } from '@kraken/oci-content';
import { manifestRecordSchema } from '../contracts.js';
import { compareVersions, legacyVersion, versionSchema } from '../version/tag-version.js';

export const replicaTagValueSchema = z
  .object({
    digest: digestStringSchema,
    updatedAt: z.iso.datetime({ offset: true }).describe('When the write was accepted, by its first node.'),
    version: versionSchema.optional(),
  })
  .strict();
/** A replicated tag write: the value, plus the manifest record the tag implies. */
export const replicaTagPutSchema = replicaTagValueSchema
  .extend({ record: manifestRecordSchema.optional() })
  .strict();
export const replicaTombstoneSchema = z
  .object({
    deletedAt: z.iso.datetime({ offset: true }).describe('When the delete was accepted, by its first node.'),
    version: versionSchema.optional(),
  })
  .strict();
export const replicaTagListSchema = z
  .object({
    tags: z.array(replicaTagValueSchema.extend({ tag: z.string() }).strict()),
    deleted: z.array(replicaTombstoneSchema.extend({ tag: z.string() }).strict()).default([]),
  })
  .strict();
export const replicaApplyResultSchema = z
  .object({
    applied: z
      .boolean()
      .describe('False when the node already held this value, a newer one, or a later delete.'),
    current: replicaTagValueSchema.optional().describe('The value the node holds now; absent when deleted.'),
  })
  .strict();

export const replicaDeleteResultSchema = z
  .object({ applied: z.boolean().describe('False when the node already held this delete or a newer write.') })
  .strict();

export type ReplicaTagValue = z.output<typeof replicaTagValueSchema>;
export type ReplicaTagPut = z.output<typeof replicaTagPutSchema>;
export type ReplicaTagList = z.output<typeof replicaTagListSchema>;
export type ReplicaApplyResult = z.output<typeof replicaApplyResultSchema>;
export type ReplicaDeleteResult = z.output<typeof replicaDeleteResultSchema>;
export type ReplicaTombstone = z.output<typeof replicaTombstoneSchema>;

/** The version of a tag value, derived from `updatedAt` when it has none. */
export function versionOf(value: {
  readonly version?: string | undefined;
  readonly updatedAt: string;
}): string {
  return value.version ?? legacyVersion(value.updatedAt);
}

/** The version of a tombstone, derived from `deletedAt` when it has none. */
export function tombstoneVersion(tombstone: {
  readonly version?: string | undefined;
  readonly deletedAt: string;
}): string {
  return tombstone.version ?? legacyVersion(tombstone.deletedAt);
}

/** True when `a` wins over `b` (or `b` is absent). */
export function isNewerTag(a: ReplicaTagValue, b: ReplicaTagValue | undefined): boolean {
  if (b === undefined) return true;
  const order = compareVersions(versionOf(a), versionOf(b));
  if (order !== 0) return order > 0;
  return a.digest > b.digest;
}

/** True when the deletion removes `value` (the value's version is not newer than it). */
export function isDeletedBy(value: ReplicaTagValue, tombstone: ReplicaTombstone): boolean {
  return compareVersions(tombstoneVersion(tombstone), versionOf(value)) >= 0;
}
