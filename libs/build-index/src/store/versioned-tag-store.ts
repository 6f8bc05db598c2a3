/**
 * The one writer of a node's tag values and tombstones. Every change goes through
 * here, serialised per tag within the node, and carries a version from the node's
 * hybrid logical clock (version/hlc.ts):
 *
 * - a local write (a tag PUT or DELETE through the /v1/ API) gets a version newer
 *   than the value or tombstone it replaces, so a write that has seen another always
 *   wins over it, whatever the clocks say;
 * - a replicated change (from a peer of this cluster, or from another cluster) keeps
 *   its version and is applied only when it is newer than what the node holds; the
 *   clock advances past it either way.
 *
 * Deletions leave a tombstone (`_deleted/<tag>`, store/keys.ts) so that a value
 * written before the delete, still held by a node that missed it, is not brought back
 * by the next sweep. Serialising one tag's changes means two changes arriving
 * together cannot both pass the comparison and then overwrite each other in the
 * wrong order.
 */
import { parseDigest, type Digest } from '@kraken/oci-content';
import type { StorageBackend } from '@kraken/storage-backends';
import type { ManifestRecord } from '../contracts.js';
import type { HybridClock } from '../version/hlc.js';
import { compareVersions } from '../version/tag-version.js';
import { deletedTagKey, deletedTagsPrefix } from './keys.js';
import { readStoredJson, writeStoredJson } from './stored-json.js';
import { createBuildIndexStore, type BuildIndexStore } from './tag-store.js';
import {
  isDeletedBy,
  isNewerTag,
  replicaTombstoneSchema,
  tombstoneVersion,
  versionOf,
  type ReplicaApplyResult,
  type ReplicaTagValue,
  type ReplicaTombstone,
} from '../cluster/replica-protocol.js';

/** A tag value with its version filled in. */
export interface VersionedTag {
  readonly digest: string;
  readonly updatedAt: string;
  readonly version: string;
}

/** A tombstone with its version filled in. */
export interface VersionedTombstone {
  readonly deletedAt: string;
  readonly version: string;
}

export interface ReplicaListing {
  readonly tags: Array<VersionedTag & { tag: string }>;
  readonly deleted: Array<VersionedTombstone & { tag: string }>;
}

export interface VersionedTagStore {
  readonly clock: HybridClock;
  /** The plain store underneath, for what carries no version (records, referrers, catalog). */
  readonly plain: BuildIndexStore;
  /** Writes a tag accepted by this node, newer than whatever it replaces. */
  putLocal(repo: string, tag: string, digest: Digest): Promise<VersionedTag>;
  /**
   * Deletes a tag through this node: a tombstone newer than the value, then the value
   * goes. Undefined (nothing written) when the tag is absent, or points elsewhere than
   * `ifDigest`.
   */
  deleteLocal(
    repo: string,
    tag: string,
    options?: { readonly ifDigest?: string },
  ): Promise<VersionedTombstone | undefined>;
  /**
   * Stores a replicated value unless the node holds it, a newer one, or a deletion at
   * or after it; writes the record first when the repository lacks it.
   */
  apply(
    repo: string,
    tag: string,
    value: ReplicaTagValue,
    record?: ManifestRecord,
  ): Promise<ReplicaApplyResult>;
  /** Records a replicated deletion and removes the tag if its value is not newer. */
  applyDelete(repo: string, tag: string, tombstone: ReplicaTombstone): Promise<{ applied: boolean }>;
  /** Every tag of the repository with its value, and its tombstones; undefined when unknown. */
  list(repo: string): Promise<ReplicaListing | undefined>;
  get(repo: string, tag: string): Promise<VersionedTag | undefined>;
  getTombstone(repo: string, tag: string): Promise<VersionedTombstone | undefined>;
}

export interface VersionedTagStoreOptions {
  readonly backend: StorageBackend;
  readonly clock: HybridClock;
  /** Clock of `updatedAt`/`deletedAt` (informational; versions order the writes). */
  readonly now?: () => Date;
}

/** Objects read at once when listing a repository. */
const LIST_CONCURRENCY = 8;
const MAX_TOMBSTONE_BYTES = 1024;

export function createVersionedTagStore(options: VersionedTagStoreOptions): VersionedTagStore {
  const { backend, clock } = options;
  const now = options.now ?? (() => new Date());
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

  const get = async (repo: string, tag: string): Promise<VersionedTag | undefined> => {
    const value = await store.getTag(repo, tag);
    return value === undefined ? undefined : { ...value, version: versionOf(value) };
  };

  const getTombstone = async (repo: string, tag: string): Promise<VersionedTombstone | undefined> => {
    const tombstone = await readStoredJson(backend, deletedTagKey(repo, tag), {
      schema: replicaTombstoneSchema,
      maxBytes: MAX_TOMBSTONE_BYTES,
      notJson: 'not a tombstone',
      badShape: 'not a tombstone',
    });
    if (tombstone === undefined) return undefined;
    return { deletedAt: tombstone.deletedAt, version: tombstoneVersion(tombstone) };
  };

  const writeTombstone = async (repo: string, tag: string, tombstone: VersionedTombstone) => {
    await writeStoredJson(backend, deletedTagKey(repo, tag), tombstone);
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

  /** The newest version the node holds for the tag (value or tombstone). */
  const latestOf = (value: VersionedTag | undefined, tombstone: VersionedTombstone | undefined) => {
    const versions = [value?.version, tombstone?.version].filter((v): v is string => v !== undefined);
    return versions.sort(compareVersions).at(-1);
  };

  return {
    clock,
    plain: store,
    get,
    getTombstone,

    putLocal(repo, tag, digest) {
      return serialised(`${repo}:${tag}`, async () => {
        const after = latestOf(await get(repo, tag), await getTombstone(repo, tag));
        const value: VersionedTag = {
          digest: digest.value,
          updatedAt: now().toISOString(),
          version: clock.next(after),
        };
        await store.writeTag(repo, tag, value);
        return value;
      });
    },

    deleteLocal(repo, tag, deleteOptions = {}) {
      return serialised(`${repo}:${tag}`, async () => {
        const current = await get(repo, tag);
        if (current === undefined) return undefined;
        if (deleteOptions.ifDigest !== undefined && current.digest !== deleteOptions.ifDigest)
          return undefined;
        const tombstone: VersionedTombstone = {
          deletedAt: now().toISOString(),
          version: clock.next(latestOf(current, await getTombstone(repo, tag))),
        };
        // The tombstone first: a crash between the two leaves a value the tombstone beats.
        await writeTombstone(repo, tag, tombstone);
        await store.deleteTag(repo, tag);
        return tombstone;
      });
    },

    apply(repo, tag, value, record) {
      clock.observe(versionOf(value));
      return serialised(`${repo}:${tag}`, async () => {
        const current = await get(repo, tag);
        if (!isNewerTag(value, current)) return { applied: false, ...(current ? { current } : {}) };
        const tombstone = await getTombstone(repo, tag);
        if (tombstone !== undefined && isDeletedBy(value, tombstone)) {
          return { applied: false, ...(current ? { current } : {}) };
        }
        const digest = parseDigest(value.digest);
        // The record first, as on the write path: a tag never points at a digest the
        // repository does not list as a member.
        if (record !== undefined && record.digest === digest.value) {
          if ((await store.getManifest(repo, digest)) === undefined) await store.putManifest(repo, record);
        }
        const written: VersionedTag = {
          digest: digest.value,
          updatedAt: value.updatedAt,
          version: versionOf(value),
        };
        await store.writeTag(repo, tag, written);
        return { applied: true, current: written };
      });
    },

    applyDelete(repo, tag, incoming) {
      const tombstone: VersionedTombstone = {
        deletedAt: incoming.deletedAt,
        version: tombstoneVersion(incoming),
      };
      clock.observe(tombstone.version);
      return serialised(`${repo}:${tag}`, async () => {
        let applied = false;
        const known = await getTombstone(repo, tag);
        if (known === undefined || compareVersions(tombstone.version, known.version) > 0) {
          await writeTombstone(repo, tag, tombstone);
          applied = true;
        }
        const current = await get(repo, tag);
        if (current !== undefined && isDeletedBy(current, tombstone)) {
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
        const value = await get(repo, tag);
        // A tag deleted since the listing is simply left out.
        return value === undefined ? undefined : { tag, ...value };
      });
      const deleted = await readAll(await listTombstoneNames(repo), async (tag) => {
        const tombstone = await getTombstone(repo, tag);
        return tombstone === undefined ? undefined : { tag, ...tombstone };
      });
      return { tags: values, deleted };
    },
  };
}
