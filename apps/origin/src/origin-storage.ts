/**
 * The origin's storage, assembled from config: the default backend (`storage`), the
 * optional namespace router (`storageRouting`), the local cache (`cache`) and the
 * durable write-back queue (`writeBack`), composed by createOriginBlobStore. Metrics
 * of the write-back queue, read-through fills and the cache are registered here.
 */
import type { Logger, Metrics } from '@kraken/service-kit';
import { contentCacheLimits, createOriginBlobStore, type OriginBlobStore } from '@kraken/origin';
import {
  createBackend,
  createBackendRouter,
  createContentCache,
  createResilientBackend,
  type StorageBackend,
} from '@kraken/storage-backends';
import type { Config } from './config.js';

export interface OriginStorage {
  readonly store: OriginBlobStore;
  /** The backends, for the startup log line. */
  readonly name: string;
  /** Closes the store (queue, fills, cache), then the backends. Idempotent. */
  close(): Promise<void>;
}

export interface OriginStorageDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Overrides the default backend `config.storage` selects. */
  readonly backend?: StorageBackend;
}

export function createOriginStorage(config: Config, deps: OriginStorageDeps): OriginStorage {
  const { metrics } = deps;
  const logger = deps.logger.child({ component: 'origin-storage' });
  const retries = metrics.counter(
    'storage_retries_total',
    'Storage backend operations retried after a transient error, by backend and operation.',
    ['backend', 'operation'],
  );
  const timeouts = metrics.counter(
    'storage_timeouts_total',
    'Storage backend attempts that timed out, by backend and operation.',
    ['backend', 'operation'],
  );
  const hooks = {
    onRetry: ({ backend: name, operation }: { backend: string; operation: string }) =>
      retries.inc({ backend: name, operation }),
    onTimeout: ({ backend: name, operation }: { backend: string; operation: string }) =>
      timeouts.inc({ backend: name, operation }),
  };
  const backend =
    deps.backend ??
    createResilientBackend({
      backend: createBackend(config.storage),
      config: config.storageResilience,
      hooks,
    });
  const router =
    config.storageRouting === undefined ? undefined : createBackendRouter(config.storageRouting, { hooks });

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
  const evictions = metrics.counter('cache_evictions_total', 'Blobs evicted from the local cache.');
  const evictedBytes = metrics.counter('cache_evicted_bytes_total', 'Bytes evicted from the local cache.');

  const cache = createContentCache({
    root: config.cache.dir,
    ...contentCacheLimits(config.cache),
    onEvict: ({ size }) => {
      evictions.inc();
      evictedBytes.inc(size);
    },
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
    onWriteBack: ({ result }) => writeBacks.inc({ result }),
    onFill: ({ result }) => fills.inc({ result }),
  });

  metrics.gauge('write_back_queue_depth', 'Write-backs waiting or running.', {
    collect: (gauge) => gauge.set(store.writeBackStats().pending),
  });
  metrics.gauge(
    'write_back_failed_jobs',
    'Write-backs kept as failed (local copy gone or out of attempts).',
    {
      collect: (gauge) => gauge.set(store.writeBackStats().failed),
    },
  );
  metrics.gauge('write_back_oldest_pending_seconds', 'Age of the oldest pending write-back; 0 when none.', {
    collect: (gauge) => {
      const oldest = store.writeBackStats().oldestPendingAt;
      gauge.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    },
  });
  metrics.gauge('cache_bytes', 'Bytes of blobs in the local cache.', {
    collect: (gauge) => gauge.set(store.cacheUsage().bytes),
  });
  metrics.gauge(
    'cache_pinned_blobs',
    'Cached blobs that cannot be evicted (pending write-back or being served).',
    {
      collect: (gauge) => gauge.set(store.cacheUsage().pinned),
    },
  );
  metrics.gauge('read_through_fills_active', 'Read-through fills running now.', {
    collect: (gauge) => gauge.set(store.activeFills()),
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
