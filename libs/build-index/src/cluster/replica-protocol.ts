/**
 * The replication protocol between build-index nodes (`/v1/replica/...`): a tag value
 * with its write time, pushed to every peer on each write, a tag deletion with its
 * time, and the per-repository listing (values and tombstones) the anti-entropy sweep
 * pulls. Tags are last-writer-wins on `updatedAt`; equal times fall back to the larger
 * digest so that every node picks the same winner whatever order the writes arrive
 * in. A deletion wins over every value written at or before it.
 */
import { z } from 'zod';
import { isDigest } from '@kraken/oci-content';
import { manifestRecordSchema } from '../contracts.js';

export const replicaTagValueSchema = z
  .object({
    digest: z.string().refine(isDigest, 'must be an OCI digest'),
    updatedAt: z.iso.datetime({ offset: true }).describe('When the write was accepted, by its first node.'),
  })
  .strict();

/** A replicated tag write: the value, plus the manifest record the tag implies. */
export const replicaTagPutSchema = replicaTagValueSchema
  .extend({ record: manifestRecordSchema.optional() })
  .strict();

export const replicaTombstoneSchema = z
  .object({
    deletedAt: z.iso.datetime({ offset: true }).describe('When the delete was accepted, by its first node.'),
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

export type ReplicaTagValue = z.output<typeof replicaTagValueSchema>;
export type ReplicaTagPut = z.output<typeof replicaTagPutSchema>;
export type ReplicaTagList = z.output<typeof replicaTagListSchema>;
export type ReplicaApplyResult = z.output<typeof replicaApplyResultSchema>;
export type ReplicaTombstone = z.output<typeof replicaTombstoneSchema>;

/** True when `a` wins over `b` (or `b` is absent). */
export function isNewerTag(a: ReplicaTagValue, b: ReplicaTagValue | undefined): boolean {
  if (b === undefined) return true;
  const ta = Date.parse(a.updatedAt);
  const tb = Date.parse(b.updatedAt);
  if (ta !== tb) return ta > tb;
  return a.digest > b.digest;
}

/** True when a deletion at `deletedAt` removes `value` (written at or before it). */
export function isDeletedBy(value: ReplicaTagValue, deletedAt: string): boolean {
  return Date.parse(deletedAt) >= Date.parse(value.updatedAt);
}
