/**
 * The origin service: the content-addressed blob API over the configured storage
 * backend, plus /health, /readiness (which checks the backend) and /metrics.
 */
import { createOriginRoutes } from '@kraken/internal-api';
import { createHttpServer, createMetrics, type Logger, type Metrics } from '@kraken/service-kit';
import { createBackend, createContentStore, type StorageBackend } from '@kraken/storage-backends';
import type { Config } from './config.js';

export interface App {
  start(): Promise<void>;
  /** Drains in-flight requests, then releases the backend; safe to call twice. */
  close(): Promise<void>;
  /** Base URL once started (the real port when configured with port 0). */
  readonly url: string;
}

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
  let url = '';
  let closing: Promise<void> | undefined;

  return {
    async start() {
      await server.register(routes);
      url = await server.listen({ host: config.listen.host, port: config.listen.port });
      logger.info({ url, storage: backend.name }, 'origin listening');
    },
    close() {
      closing ??= (async () => {
        try {
          await server.close();
        } finally {
          await backend.close();
        }
      })();
      return closing;
    },
    get url() {
      return url;
    },
  };
}
