/**
 * The origin blob store's metrics, registered on the origin's service-kit Metrics:
 * write-backs and read-through fills by result, the write-back queue's depth, failed
 * jobs and oldest pending job, the fills running and the cache's pinned blobs. The
 * cache's own (`cache_bytes`, `cache_evictions_total`, ...) are the content cache's.
 */
import type { Metrics } from '@kraken/service-kit';

export interface BlobStoreMetrics {
  writeBack(result: 'success' | 'retry' | 'failed'): void;
  fill(result: 'done' | 'corrupt' | 'error'): void;
}

/** What the gauges read at each scrape. */
export interface BlobStoreGaugeSource {
  writeBackStats(): {
    readonly pending: number;
    readonly failed: number;
    readonly oldestPendingAt?: number | undefined;
  };
  cacheUsage(): { readonly pinned: number };
  activeFills(): number;
  /** Wall-clock milliseconds, the write-back queue's time. */
  now(): number;
}

const NOOP: BlobStoreMetrics = { writeBack() {}, fill() {} };

export function createBlobStoreMetrics(
  metrics: Metrics | undefined,
  source: BlobStoreGaugeSource,
): BlobStoreMetrics {
  if (metrics === undefined) return NOOP;
  const writeBacks = metrics.counter(
    'write_backs_total',
    'Write-back attempts to the storage backend, by result.',
    ['result'],
  );
  const fills = metrics.counter(
    'read_through_fills_total',
    'Blobs read through from the backend, by result.',
    ['result'],
  );
  metrics.gauge('write_back_queue_depth', 'Write-backs waiting or running.', {
    collect: (gauge) => gauge.set(source.writeBackStats().pending),
  });
  metrics.gauge(
    'write_back_failed_jobs',
    'Write-backs kept as failed (local copy gone or out of attempts).',
    {
      collect: (gauge) => gauge.set(source.writeBackStats().failed),
    },
  );
  metrics.gauge('write_back_oldest_pending_seconds', 'Age of the oldest pending write-back; 0 when none.', {
    collect: (gauge) => {
      const oldest = source.writeBackStats().oldestPendingAt;
      gauge.set(oldest === undefined ? 0 : Math.max(0, (source.now() - oldest) / 1000));
    },
  });
  metrics.gauge(
    'cache_pinned_blobs',
    'Cached blobs that cannot be evicted (pending write-back or being served).',
    {
      collect: (gauge) => gauge.set(source.cacheUsage().pinned),
    },
  );
  metrics.gauge('read_through_fills_active', 'Read-through fills running now.', {
    collect: (gauge) => gauge.set(source.activeFills()),
  });
  return {
    writeBack: (result) => writeBacks.inc({ result }),
    fill: (result) => fills.inc({ result }),
  };
}
