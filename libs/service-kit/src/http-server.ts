/**
 * The HTTP server every component runs: fastify with pino logging, request metrics,
 * and the standard `/health`, `/readiness` and `/metrics` endpoints. Given TLS config it
 * serves HTTPS, applies reloaded files to new connections, and, when it verifies client
 * certificates, lets only the named writers write.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import type { Timers } from '@kraken/foundation';
import type { ServerTlsConfig } from './tls/tls-config.js';
import { createServerTls } from './tls/server-tls.js';
import { createWriteGuard } from './tls/write-guard.js';
import type { Metrics } from './metrics.js';
import { runReadinessChecks, type ReadinessCheck } from './readiness.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  readinessChecks?: readonly ReadinessCheck[];
  /** Largest request body fastify itself will parse (JSON); streamed bodies are not limited here. */
  bodyLimit?: number;
  /** Requests slower than this are cut off by the server (ms); 0 disables. */
  requestTimeoutMs?: number;
  /** HTTPS with these files, reloaded when they change; plain HTTP when absent. */
  tls?: ServerTlsConfig | undefined;
  /**
   * Identities allowed to write (PUT, POST, PATCH, DELETE) when `tls` verifies client
   * certificates; absent, or without client verification, writes are not restricted.
   */
  writers?: readonly string[] | undefined;
  /** Timers of the TLS file checks; tests pass a manual clock. */
  timers?: Timers;
}

const QUIET_ROUTES = new Set(['/health', '/readiness', '/metrics']);

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const tls =
    options.tls === undefined
      ? undefined
      : createServerTls(options.tls, {
          logger: options.logger,
          ...(options.timers === undefined ? {} : { timers: options.timers }),
        });
  // An HTTPS server is an http.Server to every route and hook; only its creation differs.
  const app = Fastify({
    ...(tls === undefined ? {} : { https: tls.serverOptions }),
    loggerInstance: options.logger as FastifyBaseLogger,
    // Requests are logged by the onResponse hook below, at debug level.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 0,
    // Digests and repository names never need case folding or trailing-slash games.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1024 },
    forceCloseConnections: 'idle',
    // ajv and fast-json-stringify load with the first route that declares a JSON schema.
    schemaController: { compilersFactory: lazySchemaCompilers() },
  }) as unknown as FastifyInstance;
  if (tls !== undefined) {
    tls.attach(app.server as unknown as Parameters<typeof tls.attach>[0]);
    app.addHook('onClose', async () => tls.close());
    if (tls.verifiesClients && options.writers !== undefined) {
      app.addHook('onRequest', createWriteGuard(options.writers));
    }
  }
  const requests = options.metrics.histogram('http_request_duration_seconds', 'HTTP request latency.', {
    labelNames: ['method', 'route', 'status'] as const,
  });
  // One series per method, route pattern and status, each bound once: a labelled observe()
  // sorts and joins its labels on every call, which a tracker answering tens of thousands of
  // announces a second feels.
  const series = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();
  // A callback hook, not an async one: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (!QUIET_ROUTES.has(route)) {
      const { method } = request;
      const status = reply.statusCode;
      const key = `${method} ${status} ${route}`;
      let bound = series.get(key);
      if (bound === undefined) {
        bound = requests.labels({ method, route, status: String(status) });
        series.set(key, bound);
      }
      bound.observe(reply.elapsedTime / 1000);
      request.log.debug({ method, url: request.url, status, ms: reply.elapsedTime }, 'request');
    }
    done();
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/readiness', async (_request, reply) => {
    const report = await runReadinessChecks(options.readinessChecks ?? []);
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(body);
  });
  return app;
}
