/**
 * The read-only registry store of one mirrored upstream registry (`?ns=docker.io`).
 * Tags resolve through the origin that owns them on the ring (which asks the upstream
 * once for the whole cluster) and are trusted for `tagTtlMs`; while the origins or the
 * upstream fail, a tag resolved within `staleIfErrorMs` past its TTL is still served,
 * marked stale. Manifests and blobs come by digest through the content fetch, which
 * names the upstream so the owning origin can read it through; digests are immutable
 * and never asked again once cached.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '@kraken/foundation';
import { parseDigest, parseManifest, type Digest } from '@kraken/oci-content';
import type { OriginUpstreamClient, UpstreamRef } from '@kraken/origin';
import type { ReadableRegistryStore } from '@kraken/registry-api';
import type { ContentCache } from '@kraken/storage-backends';
import { readManifestBytes } from '@kraken/build-index';
import type { ContentFetch } from '../content-fetch.js';
import type { MirrorStatus } from './mirror-status.js';

export interface MirrorStoreOptions {
  /** The upstream's registry host, e.g. `docker.io`. */
  readonly registry: string;
  readonly content: ContentFetch;
  readonly cache: Pick<ContentCache, 'read'>;
  readonly origin: Pick<OriginUpstreamClient, 'resolveUpstreamTag'>;
  readonly tagTtlMs: number;
  readonly staleIfErrorMs: number;
  readonly clock: Pick<Clock, 'now'>;
  readonly status: MirrorStatus;
  /** Tags remembered at most (default 10,000). */
  readonly maxEntries?: number;
}

export interface MirrorStore extends ReadableRegistryStore {
  /** Tags remembered now. */
  tagsCached(): number;
}

interface KnownTag {
  readonly digest: Digest;
  /** Clock time it was resolved. */
  readonly at: number;
  /** The origin answered from memory because the upstream failed. */
  readonly stale: boolean;
}

export function createMirrorStore(options: MirrorStoreOptions): MirrorStore {
  const { registry, content, clock, status } = options;
  const tags = new LRUCache<string, KnownTag>({ max: options.maxEntries ?? 10_000 });
  const inflight = new Map<string, Promise<KnownTag | undefined>>();
  const refOf = (repository: string, kind: UpstreamRef['kind']): UpstreamRef => ({
    registry,
    repository,
    kind,
  });

  async function lookup(key: string, repository: string, tag: string): Promise<KnownTag | undefined> {
    try {
      const answer = await options.origin.resolveUpstreamTag(registry, repository, tag);
      if (answer === undefined) {
        tags.delete(key);
        status.record(registry, 'not_found');
        return undefined;
      }
      const known = { digest: parseDigest(answer.digest), at: clock.now(), stale: answer.stale };
      tags.set(key, known);
      status.record(registry, answer.stale ? 'stale' : 'resolved');
      return known;
    } catch (err) {
      const last = tags.get(key);
      if (last !== undefined && clock.now() - last.at <= options.tagTtlMs + options.staleIfErrorMs) {
        status.record(registry, 'stale', err);
        return { ...last, stale: true };
      }
      status.record(registry, 'error', err);
      throw err;
    }
  }

  function resolveTag(repository: string, tag: string): Promise<KnownTag | undefined> {
    const key = `${repository}:${tag}`;
    const known = tags.get(key);
    if (known !== undefined && clock.now() - known.at < options.tagTtlMs) {
      status.record(registry, 'cached');
      return Promise.resolve(known);
    }
    const pending = inflight.get(key);
    if (pending !== undefined) return pending;
    const job = lookup(key, repository, tag).finally(() => inflight.delete(key));
    inflight.set(key, job);
    return job;
  }

  return {
    tagsCached: () => tags.size,

    statBlob: (repository, digest) => content.statBlob(digest, refOf(repository, 'blob')),

    readBlob: (repository, digest, range) => content.readBlob(digest, range, refOf(repository, 'blob')),

    async getManifest(repository, reference) {
      const resolved =
        'digest' in reference
          ? { digest: reference.digest, stale: false }
          : await resolveTag(repository, reference.tag);
      if (resolved === undefined) return undefined;
      const { digest } = resolved;
      if (!(await content.ensureCached(digest, 'manifest', refOf(repository, 'manifest')))) return undefined;
      const bytes = await readManifestBytes(await options.cache.read(digest), digest);
      return {
        digest,
        mediaType: parseManifest(bytes).mediaType,
        bytes,
        ...(resolved.stale ? { stale: true } : {}),
      };
    },

    // Tag listing and the catalog are not mirrored: pulls never need them.
    listTags: async () => undefined,
  };
}
