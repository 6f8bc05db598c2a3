/**
 * The agent registry store's metrics, registered on the agent's service-kit Metrics:
 * bytes fetched into the local cache by source, and reads served from it.
 */
import type { Metrics } from '@kraken/service-kit';

export interface RegistryStoreMetrics {
  /** A blob or manifest fetched straight from an origin into the cache. */
  fetchedFromOrigin(bytes: number): void;
  /** A blob read served from the cache. */
  readFromCache(): void;
}

const NOOP: RegistryStoreMetrics = { fetchedFromOrigin() {}, readFromCache() {} };

export function createRegistryStoreMetrics(metrics: Metrics | undefined): RegistryStoreMetrics {
  if (metrics === undefined) return NOOP;
  const fetched = metrics.counter(
    'blob_fetch_bytes_total',
    'Bytes of content fetched into the local cache, by source.',
    ['source'] as const,
  );
  const cacheReads = metrics.counter('blob_cache_reads_total', 'Blob reads served from the local cache.');
  return {
    fetchedFromOrigin: (bytes) => fetched.inc({ source: 'origin' }, bytes),
    readFromCache: () => cacheReads.inc(),
  };
}
