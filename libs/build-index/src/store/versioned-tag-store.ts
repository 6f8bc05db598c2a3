/**
 * A build-index node's side of replication: applying a tag value or a deletion that
 * another node accepted (newest wins, see cluster/replica-protocol.ts) and listing
 * a repository's tag values and tombstones for a peer's anti-entropy sweep. A value
 * keeps its original `updatedAt`, so it carries the same time on every node.
 *
 * Deletions leave a tombstone (`_deleted/<tag>`, store/keys.ts) so that a value
 * written before the delete, still held by a node that missed it, is not brought back
 * by the next sweep. Applies of one tag are serialised within the node, so two
 * replicated changes arriving together cannot both pass the comparison and then
 * overwrite each other in the wrong order.
 */
import { Readable } from 'node:stream';
import { parseDigest } from '@kraken/oci-content';
import { ObjectNotFoundError, type StorageBackend } from '@kraken/storage-backends';
import type { ManifestRecord } from '../contracts.js';
import { CorruptIndexStateError } from '../errors.js';
import { deletedTagKey, deletedTagsPrefix } from './keys.js';
import { createBuildIndexStore } from './tag-store.js';
import {
  isDeletedBy,
  isNewerTag,
  replicaTombstoneSchema,
  type ReplicaApplyResult,
  type ReplicaTagValue,
  type ReplicaTombstone,
} from '../cluster/replica-protocol.js';

export interface ReplicaListing {
  readonly tags: Array<ReplicaTagValue & { tag: string }>;
  readonly deleted: Array<ReplicaTombstone & { tag: string }>;
}

export interface ReplicaStore {
  /**
   * Stores the value unless the node holds it, a newer one, or a deletion at or after
   * it; writes the record first when the repository lacks it.
   */
  apply(
    repo: string,
    tag: string,
    value: ReplicaTagValue,
    record?: ManifestRecord,
  ): Promise<ReplicaApplyResult>;
  /**
   * Records the deletion and removes the tag if its value is not newer. `applied` is
   * true when anything changed.
   */
  applyDelete(repo: string, tag: string, deletedAt: string): Promise<{ applied: boolean }>;
  /** Every tag of the repository with its value, and its tombstones; undefined when unknown. */
  list(repo: string): Promise<ReplicaListing | undefined>;
  get(repo: string, tag: string): Promise<ReplicaTagValue | undefined>;
  getTombstone(repo: string, tag: string): Promise<ReplicaTombstone | undefined>;
}

/** Objects read at once when listing a repository. */
const LIST_CONCURRENCY = 8;
const MAX_TOMBSTONE_BYTES = 1024;

export function createReplicaStore(options: { readonly backend: StorageBackend }): ReplicaStore {
  const { backend } = options;
  const store = createBuildIndexStore({ backend });
  const inFlight = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call for the same key settled. */
  const serialised = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = inFlight.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => {});
    inFlight.set(key, tail);
    void tail.then(() => {
      if (inFlight.get(key) === tail) inFlight.delete(key);
    });
    return next;
  };

  const getTombstone = async (repo: string, tag: string): Promise<ReplicaTombstone | undefined> => {
    const key = deletedTagKey(repo, tag);
    let body: Readable;
    try {
      body = await backend.read(key);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > MAX_TOMBSTONE_BYTES) {
        body.destroy();
        throw new CorruptIndexStateError(key, `larger than ${MAX_TOMBSTONE_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    try {
      return replicaTombstoneSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      throw new CorruptIndexStateError(key, 'not a tombstone');
    }
  };

  /** Up to LIST_CONCURRENCY reads at once, in order, dropping undefined results. */
  const readAll = async <T>(names: readonly string[], read: (name: string) => Promise<T | undefined>) => {
    const out: T[] = [];
    for (let i = 0; i < names.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(names.slice(i, i + LIST_CONCURRENCY).map(read));
      for (const entry of batch) if (entry !== undefined) out.push(entry);
    }
    return out;
  };

  const listTombstoneNames = async (repo: string): Promise<string[]> => {
    const prefix = deletedTagsPrefix(repo);
    const names: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await backend.list({
        prefix,
        limit: 1000,
        ...(continuationToken ? { continuationToken } : {}),
      });
      for (const key of page.keys) names.push(key.slice(prefix.length));
      continuationToken = page.continuationToken;
    } while (continuationToken !== undefined);
    return names;
  };

  return {
    apply(repo, tag, value, record) {
      return serialised(`${repo}:${tag}`, async () => {
        const current = await store.getTag(repo, tag);
        if (!isNewerTag(value, current)) return { applied: false, ...(current ? { current } : {}) };
        const tombstone = await getTombstone(repo, tag);
        if (tombstone !== undefined && isDeletedBy(value, tombstone.deletedAt)) {
          return { applied: false, ...(current ? { current } : {}) };
        }
        const digest = parseDigest(value.digest);
        // The record first, as on the write path: a tag never points at a digest the
        // repository does not list as a member.
        if (record !== undefined && record.digest === digest.value) {
          if ((await store.getManifest(repo, digest)) === undefined) await store.putManifest(repo, record);
        }
        const at = new Date(value.updatedAt);
        const written = await createBuildIndexStore({ backend, now: () => at }).putTag(repo, tag, digest);
        return { applied: true, current: written };
      });
    },

    applyDelete(repo, tag, deletedAt) {
      return serialised(`${repo}:${tag}`, async () => {
        let applied = false;
        const tombstone = await getTombstone(repo, tag);
        if (tombstone === undefined || Date.parse(deletedAt) > Date.parse(tombstone.deletedAt)) {
          await backend.write(
            deletedTagKey(repo, tag),
            Readable.from([Buffer.from(JSON.stringify({ deletedAt }))]),
          );
          applied = true;
        }
        const current = await store.getTag(repo, tag);
        if (current !== undefined && isDeletedBy(current, deletedAt)) {
          await store.deleteTag(repo, tag);
          applied = true;
        }
        return { applied };
      });
    },

    async list(repo) {
      const tags = await store.listTags(repo);
      if (tags === undefined) return undefined;
      const values = await readAll(tags, async (tag) => {
        const value = await store.getTag(repo, tag);
        // A tag deleted since the listing is simply left out.
        return value === undefined ? undefined : { tag, ...value };
      });
      const deleted = await readAll(await listTombstoneNames(repo), async (tag) => {
        const tombstone = await getTombstone(repo, tag);
        return tombstone === undefined ? undefined : { tag, ...tombstone };
      });
      return { tags: values, deleted };
    },

    get: (repo, tag) => store.getTag(repo, tag),
    getTombstone,
  };
}
