/**
 * Resolves `repo:tag` and `repo@digest` to manifest documents with three caches, one
 * per kind of fact:
 * - tag → digest: changes, so trusted for a short TTL only;
 * - repository membership (the build-index's ManifestRecord): changes rarely, short TTL;
 * - manifest bytes by digest: immutable, kept by an LRU bounded in bytes.
 * Only hits are cached; a miss is asked again next time. While the build-index is
 * unreachable, expired entries keep answering (a stale tag beats a failed pull).
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

export function createManifestResolver(options: ManifestResolverOptions): ManifestResolver {
  const { buildIndex } = options;
  const ttl = options.ttlMs ?? 2_000;
  const max = options.maxEntries ?? 10_000;
  // An injected clock is read on every check (no cached 'now').
  const perf = options.now === undefined ? {} : { perf: { now: options.now }, ttlResolution: 0 };

  const tags = new LRUCache<string, Digest, { repo: string; tag: string }>({
    max,
    ttl,
    ...perf,
    allowStaleOnFetchRejection: true,
    fetchMethod: (_key, _stale, { context }) => buildIndex.getTag(context.repo, context.tag),
  });
  const records = new LRUCache<string, ManifestRecord, { repo: string; digest: Digest }>({
    max,
    ttl,
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
      const digest = await tags.fetch(tagKey(repo, reference.tag), { context: { repo, tag: reference.tag } });
      return digest === undefined ? undefined : byDigest(repo, digest);
    },
    rememberTag(repo, tag, digest) {
      tags.set(tagKey(repo, tag), digest);
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
