/**
 * How content reaches the agent's local cache, for pushed and mirrored content alike:
 * one download per digest however many clients ask at once, blobs through the P2P
 * swarm (it decides by size and falls back to a direct origin read), manifests straight
 * from an origin. Mirrored content names its upstream (`from`): the origin that owns
 * the digest then reads it through from the upstream registry, once for the cluster.
 * A blob enters the cache only after its digest is verified (the cache does that).
 */
import type { Readable } from 'node:stream';
import type { Digest } from '@kraken/oci-content';
import type { Metrics } from '@kraken/service-kit';
import type { ContentCache } from '@kraken/storage-backends';
import type { OriginClient, OriginUpstreamClient, UpstreamRef } from '@kraken/origin';
import type { BlobStat, ByteRange } from '@kraken/registry-api';
import { createRegistryStoreMetrics } from './registry-store-metrics.js';

export interface SwarmSource {
  fetch(digest: Digest, request: { size?: number; direct: () => Promise<boolean> }): Promise<boolean>;
  /**
   * A stream following the blob's swarm download (the client need not wait for the
   * whole blob), or undefined when it does not come through the swarm.
   */
  openLive?(
    digest: Digest,
    request: {
      range?: ByteRange | undefined;
      done: Promise<boolean>;
      resume: (range: ByteRange) => Promise<Readable>;
    },
  ): Promise<Readable | undefined>;
}

export interface ContentFetchOptions {
  readonly origin: Pick<OriginClient, 'statBlob' | 'getBlob'> &
    Partial<Pick<OriginUpstreamClient, 'statUpstream'>>;
  readonly cache: Pick<ContentCache, 'stat' | 'read' | 'write'>;
  /** Blobs (not manifests) through the P2P swarm; without it every blob comes straight from the origins. */
  readonly swarm?: SwarmSource;
  readonly metrics?: Metrics;
}

export interface ContentFetch {
  /** Makes sure the content is in the local cache, fetching it once; false when nobody has it. */
  ensureCached(digest: Digest, kind?: 'blob' | 'manifest', from?: UpstreamRef): Promise<boolean>;
  statBlob(digest: Digest, from?: UpstreamRef): Promise<BlobStat | undefined>;
  readBlob(digest: Digest, range?: ByteRange, from?: UpstreamRef): Promise<Readable | undefined>;
}

export function createContentFetch(options: ContentFetchOptions): ContentFetch {
  const { origin, cache } = options;
  const metrics = createRegistryStoreMetrics(options.metrics);
  const inflight = new Map<string, Promise<boolean>>();

  const statAtOrigin = (digest: Digest, from: UpstreamRef | undefined) => {
    if (from === undefined) return origin.statBlob(digest);
    if (origin.statUpstream === undefined) return Promise.resolve(undefined);
    return origin.statUpstream(digest, from);
  };

  async function download(digest: Digest, from: UpstreamRef | undefined): Promise<boolean> {
    const stream = await origin.getBlob(digest, from === undefined ? {} : { upstream: from });
    if (stream === undefined) return false;
    const result = await cache.write(digest, stream);
    metrics.fetchedFromOrigin(result.size);
    return true;
  }

  async function fetchBlob(digest: Digest, from: UpstreamRef | undefined): Promise<boolean> {
    const swarm = options.swarm;
    if (swarm === undefined) return download(digest, from);
    // For upstream content this stat is also what starts the origin's fill, so the
    // tracker's metainfo request that follows finds the blob on its way in.
    const stat = await statAtOrigin(digest, from);
    if (stat === undefined) return false;
    return swarm.fetch(digest, { size: stat.size, direct: () => download(digest, from) });
  }

  function ensureCached(digest: Digest, kind: 'blob' | 'manifest' = 'blob', from?: UpstreamRef) {
    const pending = inflight.get(digest.value);
    if (pending) return pending;
    const job = (async () => {
      if ((await cache.stat(digest)) !== undefined) return true;
      return kind === 'manifest' ? download(digest, from) : fetchBlob(digest, from);
    })().finally(() => inflight.delete(digest.value));
    inflight.set(digest.value, job);
    return job;
  }

  return {
    ensureCached,

    async statBlob(digest, from) {
      return (await cache.stat(digest)) ?? statAtOrigin(digest, from);
    },

    async readBlob(digest, range, from) {
      if ((await cache.stat(digest)) === undefined && options.swarm?.openLive !== undefined) {
        const done = ensureCached(digest, 'blob', from);
        const stream = await options.swarm.openLive(digest, {
          range,
          done,
          resume: (rest) => cache.read(digest, rest),
        });
        if (stream !== undefined) return stream;
      }
      if (!(await ensureCached(digest, 'blob', from))) return undefined;
      metrics.readFromCache();
      return cache.read(digest, range);
    },
  };
}
