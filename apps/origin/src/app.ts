/**
 * The origin service: the content-addressed blob API over the configured storage
 * backend, plus /health, /readiness (which checks the backend) and /metrics.
 */
import { createOriginRoutes } from '@kraken/internal-api';
import {
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
  type Metrics,
} from '@kraken/service-kit';
import { createBackend, createContentStore, type StorageBackend } from '@kraken/storage-backends';
import type { Config } from './config.js';

export type App = ServiceApp;

export interface AppDeps {
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Overrides the backend the config selects (tests, embedding). */
  readonly backend?: StorageBackend;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

export function createApp(config: Config, deps: AppDeps): App {
  const { logger } = deps;
  const metrics = deps.metrics ?? createMetrics('origin');
  const backend = deps.backend ?? createBackend(config.storage);
  const store = createContentStore({ backend });
  const server = createHttpServer({
    logger,
    metrics,
    readinessChecks: [{ name: 'storage', check: (signal) => store.check(signal) }],
  });
  const routes = createOriginRoutes({
    store,
    uploadsDir: config.uploads.dir,
    limits: config.limits,
    logger,
    metrics,
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
  return createServiceApp({
    component: 'origin',
    server,
    listen: config.listen,
    logger,
    describe: { storage: backend.name },
    beforeListen: async () => {
      await server.register(routes);
    },
    afterClose: () => backend.close(),
  });
}
