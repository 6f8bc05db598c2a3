/**
 * The content cache's metrics, registered on the component's service-kit Metrics:
 * blobs evicted and bytes held, named `blob_cache_*` (agents, proxies) or with the
 * prefix a component gives (the origin's `cache_*`, which also counts the bytes evicted).
 */
import type { Metrics } from '@kraken/service-kit';

export interface ContentCacheMetrics {
  evicted(size: number): void;
}

const NOOP: ContentCacheMetrics = { evicted() {} };

export function createContentCacheMetrics(
  metrics: Metrics | undefined,
  options: {
    /** Prefix of the names, after the component's. */
    readonly prefix: string;
    readonly evictedBytes: boolean;
    /** Bytes the cache holds now, read at each scrape. */
    readonly bytesHeld: () => number;
  },
): ContentCacheMetrics {
  if (metrics === undefined) return NOOP;
  const { prefix } = options;
  const evictions = metrics.counter(`${prefix}evictions_total`, 'Blobs evicted from the local cache.');
  const evictedBytes = options.evictedBytes
    ? metrics.counter(`${prefix}evicted_bytes_total`, 'Bytes evicted from the local cache.')
    : undefined;
  metrics.gauge(`${prefix}bytes`, 'Bytes held by the local cache.', {
    collect: (gauge) => gauge.set(options.bytesHeld()),
  });
  return {
    evicted(size) {
      evictions.inc();
      evictedBytes?.inc(size);
    },
  };
}
