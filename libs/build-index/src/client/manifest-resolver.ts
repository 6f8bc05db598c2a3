/**
 * Resolves `repo:tag` and `repo@digest` to manifest documents with three caches, one
 * per kind of fact:
 * - tag → digest: changes, so trusted for a short TTL only;
 * - repository membership (the build-index's ManifestRecord): changes rarely, short TTL;
 * - manifest bytes by digest: immutable, kept by an LRU bounded in bytes.
 * Only hits are cached; a miss is asked again next time.
 *
 * A tag answer is trusted for `ttlMs` counted from when the build-index was asked (not
 * from when it answered), so a tag moved by a push that completed at time P is served
 * everywhere from P + ttlMs on. While the build-index is unreachable an expired tag
 * keeps answering for at most `staleIfErrorMs` more (default 0: never past its TTL);
 * then the lookup fails rather than serve it. Membership records, which rarely change,
 * keep answering while it is down.
 * Writers call `remember*`/`forget*` so that they read their own writes at once.
 */
import { LRUCache } from 'lru-cache';
import type { Digest } from '@kraken/oci-content';
import type { StoredManifest } from '@kraken/registry-api';
import type { BuildIndexClient } from './client-types.js';
import type { ManifestRecord } from '../contracts.js';

export interface ManifestResolverOptions {
  buildIndex: Pick<BuildIndexClient, 'getTag' | 'getManifest'>;
  /** Loads a manifest document by digest (verified); undefined when it does not exist. */
  loadBytes(digest: Digest): Promise<Buffer | undefined>;
  /** How long tag and membership answers are trusted (ms). */
  ttlMs?: number;
  /**
   * How long past its TTL a tag may still answer while the build-index fails (ms,
   * default 0: a tag is never served past its TTL).
   */
  staleIfErrorMs?: number;
  /** Memory for cached manifest documents (bytes). */
  maxCachedBytes?: number;
  /** Most tag and membership entries kept. */
  maxEntries?: number;
  /** Monotonic milliseconds, injectable so tests control expiry. */
  now?: () => number;
}

export interface ManifestResolver {
  resolve(repo: string, reference: { tag: string } | { digest: Digest }): Promise<StoredManifest | undefined>;
  rememberTag(repo: string, tag: string, digest: Digest): void;
  rememberManifest(repo: string, record: ManifestRecord, bytes: Buffer, digest: Digest): void;
  forgetTag(repo: string, tag: string): void;
  /** Forgets membership and every cached tag of `repo` (tags may have pointed at it). */
  forgetManifest(repo: string, digest: Digest): void;
}

/** A cached tag answer and when the build-index was asked for it. */
interface TagEntry {
  readonly digest: Digest;
  readonly fetchedAt: number;
}

export function createManifestResolver(options: ManifestResolverOptions): ManifestResolver {
  const { buildIndex } = options;
  const ttl = options.ttlMs ?? 2_000;
  const staleIfError = options.staleIfErrorMs ?? 0;
  const max = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => performance.now());
  // The clock is read on every check (no cached 'now'), so expiry is exact.
  const perf = { perf: { now }, ttlResolution: 0 };

  // lru-cache reads a TTL of 0 as "forever"; a TTL of 0 here means "ask every time".
  const tags = new LRUCache<string, TagEntry, { repo: string; tag: string }>({
    max,
    ttl: Math.max(1, ttl),
    ...perf,
    noDeleteOnFetchRejection: true,
    fetchMethod: async (_key, stale, { context, options: entry }) => {
      const askedAt = now();
      try {
        const digest = await buildIndex.getTag(context.repo, context.tag);
        if (digest === undefined) return undefined;
        // Trusted for ttl from when it was asked: the answer may predate a push that
        // completed while it was on its way.
        entry.ttl = Math.max(1, ttl - (now() - askedAt));
        return { digest, fetchedAt: askedAt };
      } catch (err) {
        const deadline = stale === undefined ? -Infinity : stale.fetchedAt + ttl + staleIfError;
        if (now() > deadline) throw err;
        // Served stale up to the deadline, not a millisecond longer (an entry of TTL t
        // serves while its age is at most t).
        entry.ttl = Math.max(1, deadline - now());
        return stale;
      }
    },
  });
  const records = new LRUCache<string, ManifestRecord, { repo: string; digest: Digest }>({
    max,
    ttl: Math.max(1, ttl),
    ...perf,
    allowStaleOnFetchRejection: true,
    fetchMethod: (_key, _stale, { context }) => buildIndex.getManifest(context.repo, context.digest),
  });
  const documents = new LRUCache<string, Buffer, Digest>({
    maxSize: options.maxCachedBytes ?? 32 * 1024 * 1024,
    sizeCalculation: (bytes) => Math.max(1, bytes.length),
    fetchMethod: (_key, _stale, { context }) => options.loadBytes(context),
  });

  const tagKey = (repo: string, tag: string) => `${repo}:${tag}`;
  const fetchUncached = async (repo: string, tag: string): Promise<TagEntry | undefined> => {
    const digest = await buildIndex.getTag(repo, tag);
    return digest === undefined ? undefined : { digest, fetchedAt: now() };
  };
  const recordKey = (repo: string, digest: Digest) => `${repo}@${digest.value}`;

  async function byDigest(repo: string, digest: Digest): Promise<StoredManifest | undefined> {
    const record = await records.fetch(recordKey(repo, digest), { context: { repo, digest } });
    if (record === undefined) return undefined;
    const bytes = await documents.fetch(digest.value, { context: digest });
    return bytes === undefined ? undefined : { digest, mediaType: record.mediaType, bytes };
  }

  return {
    async resolve(repo, reference) {
      if ('digest' in reference) return byDigest(repo, reference.digest);
      const entry =
        ttl <= 0
          ? await fetchUncached(repo, reference.tag)
          : await tags.fetch(tagKey(repo, reference.tag), { context: { repo, tag: reference.tag } });
      return entry === undefined ? undefined : byDigest(repo, entry.digest);
    },
    rememberTag(repo, tag, digest) {
      if (ttl > 0) tags.set(tagKey(repo, tag), { digest, fetchedAt: now() });
    },
    rememberManifest(repo, record, bytes, digest) {
      records.set(recordKey(repo, digest), record);
      documents.set(digest.value, bytes);
    },
    forgetTag(repo, tag) {
      tags.delete(tagKey(repo, tag));
    },
    forgetManifest(repo, digest) {
      records.delete(recordKey(repo, digest));
      const prefix = `${repo}:`;
      for (const key of tags.keys()) if (key.startsWith(prefix)) tags.delete(key);
    },
  };
}
