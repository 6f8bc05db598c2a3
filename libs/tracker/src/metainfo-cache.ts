/**
 * The tracker's metainfo cache: metainfo fetched from the origins, kept in a
 * byte-bounded LRU together with its canonical JSON (what the route sends, so a hit
 * costs no serialisation). Concurrent requests for one digest share one origin fetch.
 * "Not found" is not cached: the blob may be pushed a moment later. Metainfo never
 * changes for a digest, so entries have no TTL.
 */
import { LRUCache } from 'lru-cache';
import type { Digest } from '@kraken/oci-content';
import { metainfoId, serializeMetainfo, type Metainfo } from '@kraken/p2p-core';

/** Where metainfo comes from; an origin client fits as it is. */
export interface MetainfoSource {
  /** Undefined when no origin holds the blob. */
  getMetainfo(digest: Digest, signal?: AbortSignal): Promise<Metainfo | undefined>;
}

export interface CachedMetainfo {
  readonly metainfo: Metainfo;
  /** The canonical serialisation (serializeMetainfo). */
  readonly json: string;
  /** The metainfo id (metainfoId). */
  readonly id: string;
}

/** hit: served from memory; miss: fetched; inflight: joined a fetch already running. */
export type MetainfoLookup = 'hit' | 'miss' | 'inflight';

export interface MetainfoCacheOptions {
  readonly source: MetainfoSource;
  readonly maxBytes: number;
  /** Called once per lookup, for metrics. */
  readonly onLookup?: (result: MetainfoLookup) => void;
}

export interface MetainfoCache {
  get(digest: Digest): Promise<CachedMetainfo | undefined>;
  /** Bytes of JSON held. */
  readonly bytes: number;
  readonly entries: number;
}

export function createMetainfoCache(options: MetainfoCacheOptions): MetainfoCache {
  const { source, onLookup } = options;
  const cache = new LRUCache<string, CachedMetainfo, Digest>({
    maxSize: options.maxBytes,
    sizeCalculation: (entry) => Math.max(1, entry.json.length),
    fetchMethod: async (_key, _stale, { signal, context: digest }) => {
      const metainfo = await source.getMetainfo(digest, signal);
      if (metainfo === undefined) return undefined;
      return { metainfo, json: serializeMetainfo(metainfo), id: metainfoId(metainfo) };
    },
  });

  return {
    async get(digest) {
      const status: LRUCache.Status<string, CachedMetainfo, Digest> = {};
      const promise = cache.fetch(digest.value, { status, context: digest });
      const result = status.fetch;
      onLookup?.(result === 'hit' || result === 'inflight' ? result : 'miss');
      return promise;
    },
    get bytes() {
      return cache.calculatedSize;
    },
    get entries() {
      return cache.size;
    },
  };
}
