/**
 * Tag lookups against one upstream registry, shared by the whole cluster: agents ask
 * the origin that owns the tag on the ring, and this resolver answers every lookup
 * within `cacheMs` of the last upstream answer from memory and folds concurrent ones
 * into one request. While the upstream fails, the last answer younger than
 * `staleIfErrorMs` is given again, marked stale; a tag the upstream says is gone is
 * forgotten at once (a 404 is an answer, not a failure).
 */
import { LRUCache } from 'lru-cache';
import { readBounded, type Clock } from '@kraken/foundation';
import { parseDigest } from '@kraken/oci-content';
import { ObjectNotFoundError, tagKey, type StorageBackend } from '@kraken/storage-backends';
import { z } from 'zod';
import { UpstreamUnavailableError } from '../errors.js';
import type { UpstreamTag } from './upstream-ref.js';

/** The registry backend's tag record (registry-tags.ts in storage-backends). */
const tagRecordSchema = z.object({ digest: z.string() });
const MAX_TAG_RECORD_BYTES = 4096;

export type TagLookupResult = 'cached' | 'fetched' | 'stale' | 'not_found' | 'error';

export interface TagResolverOptions {
  /** The upstream's registry host, for errors. */
  readonly registry: string;
  /** Reads `repositories/<repo>/_tags/<tag>` records (the registry backend does). */
  readonly backend: Pick<StorageBackend, 'read'>;
  readonly cacheMs: number;
  readonly staleIfErrorMs: number;
  readonly clock: Pick<Clock, 'now'>;
  /** Tags remembered at most (default 10,000). */
  readonly maxEntries?: number;
  readonly onLookup?: (result: TagLookupResult) => void;
}

export interface TagResolver {
  /** The tag's digest; undefined when the upstream has no such tag. */
  resolve(repository: string, tag: string): Promise<UpstreamTag | undefined>;
}

interface Known {
  readonly digest: string;
  /** Clock time of the upstream answer. */
  readonly at: number;
}

export function createTagResolver(options: TagResolverOptions): TagResolver {
  const { clock, backend } = options;
  const known = new LRUCache<string, Known>({ max: options.maxEntries ?? 10_000 });
  const inflight = new Map<string, Promise<UpstreamTag | undefined>>();
  const answer = (entry: Known, stale: boolean): UpstreamTag => ({
    digest: entry.digest,
    stale,
    ageSeconds: Math.max(0, (clock.now() - entry.at) / 1000),
  });

  async function fetch(key: string, repository: string, tag: string): Promise<UpstreamTag | undefined> {
    try {
      const { bytes } = await readBounded(await backend.read(tagKey(repository, tag)), MAX_TAG_RECORD_BYTES);
      if (bytes === undefined) throw new Error('tag record is too large');
      const digest = parseDigest(tagRecordSchema.parse(JSON.parse(bytes.toString('utf8'))).digest).value;
      const entry = { digest, at: clock.now() };
      known.set(key, entry);
      options.onLookup?.('fetched');
      return answer(entry, false);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) {
        known.delete(key);
        options.onLookup?.('not_found');
        return undefined;
      }
      const last = known.get(key);
      if (last !== undefined && clock.now() - last.at <= options.staleIfErrorMs) {
        options.onLookup?.('stale');
        return answer(last, true);
      }
      options.onLookup?.('error');
      throw new UpstreamUnavailableError(options.registry, err);
    }
  }

  return {
    resolve(repository, tag) {
      const key = `${repository}:${tag}`;
      const entry = known.get(key);
      if (entry !== undefined && clock.now() - entry.at < options.cacheMs) {
        options.onLookup?.('cached');
        return Promise.resolve(answer(entry, false));
      }
      const pending = inflight.get(key);
      if (pending !== undefined) return pending;
      const job = fetch(key, repository, tag).finally(() => inflight.delete(key));
      inflight.set(key, job);
      return job;
    },
  };
}
