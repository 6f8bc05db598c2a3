/**
 * The read-only registry store behind an agent. Tags resolve through the build-index
 * with a short-TTL cache that keeps answering with the last known digest while the
 * build-index is unreachable. Content is immutable by digest, so manifests and blobs
 * are kept in a local content-addressed cache: the first pull fetches from the
 * origins (one download per digest however many clients ask at once), later pulls
 * are served from disk. A blob enters the cache only after its digest is verified.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '@kraken/oci-content';
import type { ReadableRegistryStore } from '@kraken/registry-api';
import type { Metrics } from '@kraken/service-kit';
import type { ContentCache } from '@kraken/storage-backends';
import type { BuildIndexClient } from '@kraken/build-index';
import type { OriginClient } from '@kraken/origin';
import { readManifestBytes } from '@kraken/build-index';
import { toReferrerDescriptor } from '@kraken/build-index';
import { createManifestResolver } from '@kraken/build-index';
import { createRegistryStoreMetrics } from './registry-store-metrics.js';

export interface AgentRegistryStoreOptions {
  origin: Pick<OriginClient, 'statBlob' | 'getBlob'>;
  buildIndex: Pick<
    BuildIndexClient,
    'getTag' | 'getManifest' | 'listTags' | 'listReferrers' | 'listRepositories'
  >;
  /** Local on-disk cache of blobs and manifests. */
  cache: Pick<ContentCache, 'stat' | 'read' | 'write'>;
  /** How long a resolved tag is trusted before it is revalidated (ms). */
  tagTtlMs?: number;
  /** How long past its TTL a tag may answer while the build-index fails (ms, default 0). */
  staleTagIfErrorMs?: number;
  /** Upper bound of cached tag and manifest-record entries. */
  maxCachedEntries?: number;
  /**
   * Fetches blobs (not manifests) through the P2P swarm; it decides by size and falls
   * back to `direct`. Without it every blob comes straight from the origins.
   */
  swarm?: {
    fetch(digest: Digest, request: { size?: number; direct: () => Promise<boolean> }): Promise<boolean>;
    /**
     * A stream following the blob's swarm download (the client need not wait for the
     * whole blob), or undefined when it does not come through the swarm.
     */
    openLive?(
      digest: Digest,
      request: {
        range?: { start: number; end: number } | undefined;
        done: Promise<boolean>;
        resume: (range: { start: number; end: number }) => Promise<Readable>;
      },
    ): Promise<Readable | undefined>;
  };
  /** Registers where content came from on it (registry-store-metrics.ts). */
  metrics?: Metrics;
}

export interface AgentRegistryStore extends ReadableRegistryStore {
  /**
   * Makes sure a blob is in the local cache, fetching it once (through the swarm when
   * configured, unless it is a manifest).
   */
  ensureCached(digest: Digest, kind?: 'blob' | 'manifest'): Promise<boolean>;
}

export function createAgentRegistryStore(options: AgentRegistryStoreOptions): AgentRegistryStore {
  const { origin, buildIndex, cache } = options;
  const metrics = createRegistryStoreMetrics(options.metrics);

  const inflight = new Map<string, Promise<boolean>>();

  async function download(digest: Digest): Promise<boolean> {
    const stream = await origin.getBlob(digest);
    if (stream === undefined) return false;
    const result = await cache.write(digest, stream);
    metrics.fetchedFromOrigin(result.size);
    return true;
  }

  async function fetchBlob(digest: Digest): Promise<boolean> {
    const swarm = options.swarm;
    if (swarm === undefined) return download(digest);
    const stat = await origin.statBlob(digest);
    if (stat === undefined) return false;
    return swarm.fetch(digest, { size: stat.size, direct: () => download(digest) });
  }

  function ensureCached(digest: Digest, kind: 'blob' | 'manifest' = 'blob'): Promise<boolean> {
    const pending = inflight.get(digest.value);
    if (pending) return pending;
    const job = (async () => {
      if ((await cache.stat(digest)) !== undefined) return true;
      return kind === 'manifest' ? download(digest) : fetchBlob(digest);
    })().finally(() => inflight.delete(digest.value));
    inflight.set(digest.value, job);
    return job;
  }

  const manifests = createManifestResolver({
    buildIndex,
    loadBytes: async (digest) =>
      (await ensureCached(digest, 'manifest'))
        ? readManifestBytes(await cache.read(digest), digest)
        : undefined,
    ttlMs: options.tagTtlMs ?? 5_000,
    staleIfErrorMs: options.staleTagIfErrorMs ?? 0,
    ...(options.maxCachedEntries === undefined ? {} : { maxEntries: options.maxCachedEntries }),
  });

  return {
    ensureCached,

    async statBlob(_repo, digest) {
      return (await cache.stat(digest)) ?? origin.statBlob(digest);
    },

    async readBlob(_repo, digest, range) {
      if ((await cache.stat(digest)) === undefined && options.swarm?.openLive !== undefined) {
        const done = ensureCached(digest);
        const stream = await options.swarm.openLive(digest, {
          range,
          done,
          resume: (rest) => cache.read(digest, rest),
        });
        if (stream !== undefined) return stream;
      }
      if (!(await ensureCached(digest))) return undefined;
      metrics.readFromCache();
      return cache.read(digest, range);
    },

    getManifest: (repo, reference) => manifests.resolve(repo, reference),

    listTags: (repo, page) => buildIndex.listTags(repo, page),

    listRepositories: (page) => buildIndex.listRepositories(page),

    async listReferrers(repo, digest) {
      return (await buildIndex.listReferrers(repo, digest)).map(toReferrerDescriptor);
    },
  };
}
