/**
 * The build-index service: the /v1/ tag, manifest-record and referrer API over a
 * storage backend, with tag writes checked against the origin, plus /health,
 * /readiness (storage and origin) and /metrics. A node with peers replicates every
 * tag write to them before answering and pulls what it missed from them on an
 * interval (see cluster/cluster.ts in @kraken/build-index).
 */
import { createBuildIndexCluster, createBuildIndexRoutes } from '@kraken/build-index';
import { createOriginRingClient, type OriginClient } from '@kraken/origin';
import { createLiveRing } from '@kraken/hashring';
import {
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
  type Metrics,
} from '@kraken/service-kit';
import { createBackend, type StorageBackend, createResilientBackend } from '@kraken/storage-backends';
import type { Config } from './config.js';

export type App = ServiceApp;

export interface AppDeps {
  readonly logger: Logger;
  /** Defaults to a fresh registry; tests pass their own. */
  readonly metrics?: Metrics;
  /** Defaults to the backend `config.storage` selects. */
  readonly backend?: StorageBackend;
  /** Defaults to a client of the origin ring `config.origins`. */
  readonly origin?: Pick<OriginClient, 'statBlob' | 'getBlob' | 'ping' | 'close'>;
  /** Clock for tags' `updatedAt`. */
  readonly now?: () => Date;
}

export function createApp(config: Config, deps: AppDeps): App {
  const { logger } = deps;
  const metrics = deps.metrics ?? createMetrics('build-index');
  const backend =
    deps.backend ??
    createResilientBackend({
      backend: createBackend(config.storage),
      config: config.storageResilience,
      // One backend: its retries and timeouts are counted by operation alone.
      metrics,
      metricsByBackend: false,
    });
  // Existence checks ask a blob's owners on the origin ring, in order.
  const originRing = createLiveRing(config.origins, { logger });
  const ownRing = deps.origin === undefined;
  const origin =
    deps.origin ??
    createOriginRingClient({
      ring: originRing,
      connections: config.origin.connections,
      headersTimeoutMs: config.origin.timeoutMs,
      bodyTimeoutMs: config.origin.timeoutMs,
    });
  const cluster = createBuildIndexCluster({
    backend,
    peers: config.cluster.peers,
    replicationTimeoutMs: config.cluster.replicationTimeoutMs,
    antiEntropyIntervalMs: config.cluster.antiEntropyIntervalMs,
    logger,
    metrics,
    ...(deps.now ? { now: deps.now } : {}),
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
      onTagPut: ({ repo, tag, value, record }) => cluster.replicateTag(repo, tag, value, record),
      onTagDelete: ({ repo, tag }) => cluster.replicateDelete(repo, tag),
      closure: {
        concurrency: config.contentCheck.concurrency,
        maxDepth: config.contentCheck.maxIndexDepth,
        maxManifests: config.contentCheck.maxManifests,
      },
    }),
  );
  void server.register(cluster.routes);

  return createServiceApp({
    component: 'build-index',
    server,
    listen: config.listen,
    logger,
    describe: {
      storage: backend.name,
      origins: originRing.members().map((node) => node.url),
      peers: config.cluster.peers,
    },
    // A node that was down pulls what it missed as soon as it starts.
    beforeListen: async () => {
      if (ownRing) await originRing.start();
      await cluster.start();
    },
    // In-flight requests drain first; the origin pool and backend go after them.
    afterClose: async () => {
      await cluster.close();
      await Promise.all([origin.close(), backend.close()]);
      originRing.close();
    },
  });
}
