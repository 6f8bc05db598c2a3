/**
 * The agent: a read-only registry on each host. Tags resolve through the build-index,
 * content comes from the origins once and is then served from the local disk cache.
 */
import { createAgentRegistryStore, createBuildIndexClient, createOriginClient } from '@kraken/internal-api';
import { registryApi } from '@kraken/registry-api';
import {
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
} from '@kraken/service-kit';
import { createContentCache } from '@kraken/storage-backends';
import type { Config } from './config.js';

export type App = ServiceApp;

export function createApp(config: Config, deps: { logger: Logger }): App {
  const metrics = createMetrics('agent');
  const fetched = metrics.counter(
    'blob_fetch_bytes_total',
    'Bytes of content fetched into the local cache, by source.',
    ['source'] as const,
  );
  const cacheHits = metrics.counter('blob_cache_reads_total', 'Blob reads served from the local cache.');
  const origin = createOriginClient({ url: config.origin.url });
  const buildIndex = createBuildIndexClient({ url: config.buildIndex.url });
  const evictions = metrics.counter('blob_cache_evictions_total', 'Blobs evicted from the local cache.');
  const cache = createContentCache({
    root: config.cache.dir,
    maxBytes: config.cache.maxBytes,
    onEvict: () => evictions.inc(),
  });
  metrics.gauge('blob_cache_bytes', 'Bytes held by the local cache.', {
    collect: (gauge) => gauge.set(cache.usage().bytes),
  });
  const store = createAgentRegistryStore({
    origin,
    buildIndex,
    cache,
    tagTtlMs: config.cache.tagTtlSeconds * 1000,
    onFetch: (event) => {
      if (event.source === 'origin') fetched.inc({ source: 'origin' }, event.bytes ?? 0);
      else cacheHits.inc();
    },
  });
  const server = createHttpServer({
    logger: deps.logger,
    metrics,
    readinessChecks: [
      { name: 'cache', check: (signal) => cache.check(signal) },
      { name: 'origin', check: (signal) => origin.ping(signal) },
      { name: 'build-index', check: (signal) => buildIndex.ping(signal) },
    ],
  });
  server.register(registryApi, { store, limits: config.registry.limits, logger: deps.logger, metrics });

  return createServiceApp({
    component: 'agent',
    server,
    listen: config.listen,
    logger: deps.logger,
    describe: { cache: config.cache.dir },
    beforeListen: () => cache.start(),
    afterClose: async () => {
      await Promise.all([origin.close(), buildIndex.close(), cache.close()]);
    },
  });
}
