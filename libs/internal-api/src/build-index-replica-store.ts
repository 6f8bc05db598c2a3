/**
 * A build-index node's side of replication: applying a tag value that another node
 * accepted (newest wins, see build-index-replica-protocol.ts) and listing a
 * repository's tag values for a peer's anti-entropy sweep. The write keeps the
 * value's original `updatedAt`, so a value carries the same time on every node.
 *
 * Applies of one tag are serialised within the node, so two replicated writes
 * arriving together cannot both pass the comparison and then overwrite each other
 * in the wrong order.
 */
import { parseDigest } from '@kraken/oci-content';
import type { StorageBackend } from '@kraken/storage-backends';
import type { ManifestRecord } from './contracts.js';
import { createBuildIndexStore } from './build-index-store.js';
import { isNewerTag, type ReplicaApplyResult, type ReplicaTagValue } from './build-index-replica-protocol.js';

export interface ReplicaStore {
  /** Stores the value unless the node holds it or a newer one; writes the record first when missing. */
  apply(
    repo: string,
    tag: string,
    value: ReplicaTagValue,
    record?: ManifestRecord,
  ): Promise<ReplicaApplyResult>;
  /** Every tag of the repository with its value; undefined when the repository is unknown. */
  list(repo: string): Promise<Array<ReplicaTagValue & { tag: string }> | undefined>;
  get(repo: string, tag: string): Promise<ReplicaTagValue | undefined>;
  /** False when the tag was not there. */
  delete(repo: string, tag: string): Promise<boolean>;
}

/** Tag values read at once when listing a repository. */
const LIST_CONCURRENCY = 8;

export function createReplicaStore(options: { readonly backend: StorageBackend }): ReplicaStore {
  const store = createBuildIndexStore({ backend: options.backend });
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

  return {
    apply(repo, tag, value, record) {
      return serialised(`${repo}:${tag}`, async () => {
        const current = await store.getTag(repo, tag);
        if (!isNewerTag(value, current)) {
          return { applied: false, current: current ?? value };
        }
        const digest = parseDigest(value.digest);
        // The record first, as on the write path: a tag never points at a digest the
        // repository does not list as a member.
        if (record !== undefined && record.digest === digest.value) {
          if ((await store.getManifest(repo, digest)) === undefined) await store.putManifest(repo, record);
        }
        const at = new Date(value.updatedAt);
        const written = await createBuildIndexStore({ backend: options.backend, now: () => at }).putTag(
          repo,
          tag,
          digest,
        );
        return { applied: true, current: written };
      });
    },

    async list(repo) {
      const tags = await store.listTags(repo);
      if (tags === undefined) return undefined;
      const values: Array<ReplicaTagValue & { tag: string }> = [];
      for (let i = 0; i < tags.length; i += LIST_CONCURRENCY) {
        const batch = await Promise.all(
          tags.slice(i, i + LIST_CONCURRENCY).map(async (tag) => {
            const value = await store.getTag(repo, tag);
            // A tag deleted since the listing is simply left out.
            return value === undefined ? undefined : { tag, ...value };
          }),
        );
        for (const entry of batch) if (entry !== undefined) values.push(entry);
      }
      return values;
    },

    get: (repo, tag) => store.getTag(repo, tag),
    delete: (repo, tag) => serialised(`${repo}:${tag}`, () => store.deleteTag(repo, tag)),
  };
}
