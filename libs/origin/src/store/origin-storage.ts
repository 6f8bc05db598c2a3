/**
 * The origin's storage, assembled from config: the default backend (`storage`), the
 * optional namespace router (`storageRouting`), the local cache (`cache`) and the
 * durable write-back queue (`writeBack`), composed by createOriginBlobStore. Given a
 * metrics registry, each part registers its own metrics on it: the backends' retries
 * and timeouts, the cache's `cache_*`, the store's write-backs and fills.
 */
import type { Logger, Metrics } from '@kraken/service-kit';
import {
  createBackend,
  createBackendRouter,
  createContentCache,
  createResilientBackend,
  type BackendResilienceConfig,
  type BackendRoutingConfig,
  type StorageBackend,
  type StorageBackendConfig,
} from '@kraken/storage-backends';
import { createOriginBlobStore, type OriginBlobStore } from './blob-store.js';
import { contentCacheLimits, type OriginCacheConfig, type WriteBackConfig } from './store-config.js';

/** The storage keys of the origin's config. */
export interface OriginStorageConfig {
  readonly storage: StorageBackendConfig;
  readonly storageResilience: BackendResilienceConfig;
  readonly storageRouting?: BackendRoutingConfig | undefined;
  readonly cache: OriginCacheConfig;
  readonly writeBack: WriteBackConfig;
}

export interface OriginStorage {
  readonly store: OriginBlobStore;
  /** The backends, for the startup log line. */
  readonly name: string;
  /** Closes the store (queue, fills, cache), then the backends. Idempotent. */
  close(): Promise<void>;
}

export interface OriginStorageDeps {
  readonly logger: Logger;
  /** Where the storage's metrics go; without it there are none. */
  readonly metrics?: Metrics;
  /** Overrides the default backend `config.storage` selects. */
  readonly backend?: StorageBackend;
}

export function createOriginStorage(config: OriginStorageConfig, deps: OriginStorageDeps): OriginStorage {
  const { metrics } = deps;
  const logger = deps.logger.child({ component: 'origin-storage' });
  const backend =
    deps.backend ??
    createResilientBackend({
      backend: createBackend(config.storage),
      config: config.storageResilience,
      metrics,
    });
  const router =
    config.storageRouting === undefined ? undefined : createBackendRouter(config.storageRouting, { metrics });
  const cache = createContentCache({
    root: config.cache.dir,
    ...contentCacheLimits(config.cache),
    metrics,
    metricsPrefix: 'cache_',
    evictedBytesMetric: true,
  });
  const store = createOriginBlobStore({
    cache,
    cacheDir: config.cache.dir,
    backends: {
      default: backend,
      ...(router === undefined
        ? {}
        : { forNamespace: (namespace: string) => router.forNamespace(namespace), routed: router.backends }),
    },
    writeBack: {
      dbPath: config.writeBack.dbPath,
      concurrency: config.writeBack.concurrency,
      backoff: config.writeBack.backoff,
      ...(config.writeBack.maxAttempts === undefined ? {} : { maxAttempts: config.writeBack.maxAttempts }),
    },
    logger,
    metrics,
  });

  let closing: Promise<void> | undefined;
  return {
    store,
    name: router === undefined ? backend.name : [backend, ...router.backends].map((b) => b.name).join(', '),
    close() {
      closing ??= (async () => {
        await store.close();
        await Promise.all([backend.close(), router?.close()]);
      })();
      return closing;
    },
  };
}
