/**
 * The build-index service: the /v1/ tag, manifest-record and referrer API over a
 * storage backend, with tag writes checked against the origin, plus /health,
 * /readiness (storage and origin) and /metrics.
 */
import { createBuildIndexRoutes, createOriginClient, type OriginClient } from '@kraken/internal-api';
import {
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
  type Metrics,
} from '@kraken/service-kit';
import { createBackend, type StorageBackend } from '@kraken/storage-backends';
import type { Config } from './config.js';

export type App = ServiceApp;

export interface AppDeps {
  readonly logger: Logger;
  /** Defaults to a fresh registry; tests pass their own. */
  readonly metrics?: Metrics;
  /** Defaults to the backend `config.storage` selects. */
  readonly backend?: StorageBackend;
  /** Defaults to an HTTP client of `config.origin.url`. */
  readonly origin?: Pick<OriginClient, 'statBlob' | 'getBlob' | 'ping' | 'close'>;
  /** Clock for tags' `updatedAt`. */
  readonly now?: () => Date;
}

export function createApp(config: Config, deps: AppDeps): App {
  const { logger } = deps;
  const metrics = deps.metrics ?? createMetrics('build-index');
  const backend = deps.backend ?? createBackend(config.storage);
  const origin =
    deps.origin ??
    createOriginClient({
      url: config.origin.url,
      connections: config.origin.connections,
      headersTimeoutMs: config.origin.timeoutMs,
      bodyTimeoutMs: config.origin.timeoutMs,
    });
  const server = createHttpServer({
    logger,
    metrics,
    readinessChecks: [
      { name: 'storage', check: (signal) => backend.check(signal) },
      { name: 'origin', check: (signal) => origin.ping(signal) },
    ],
  });
  void server.register(
    createBuildIndexRoutes({
      backend,
      origin,
      logger,
      metrics,
      ...(deps.now ? { now: deps.now } : {}),
      closure: {
        concurrency: config.contentCheck.concurrency,
        maxDepth: config.contentCheck.maxIndexDepth,
        maxManifests: config.contentCheck.maxManifests,
      },
    }),
  );

  return createServiceApp({
    component: 'build-index',
    server,
    listen: config.listen,
    logger,
    describe: { storage: backend.name, origin: config.origin.url },
    // In-flight requests drain first; the origin pool and backend go after them.
    afterClose: async () => {
      await Promise.all([origin.close(), backend.close()]);
    },
  });
}
