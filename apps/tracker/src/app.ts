/**
 * The tracker service: the announce API (swarm bookkeeping and peer handout) and
 * metainfo served from a cache filled from the origin ring, plus /health, /readiness
 * (which checks that an origin is ready) and /metrics.
 */
import { createLiveRing } from '@kraken/hashring';
import { createOriginRingClient } from '@kraken/origin';
import { createPeerPolicy, createPeerStore, createTrackerRoutes } from '@kraken/tracker';
import {
  createClientTls,
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
  type Metrics,
} from '@kraken/service-kit';
import type { Config } from './config.js';

export type App = ServiceApp;

export interface AppDeps {
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Monotonic milliseconds, for peer expiry. */
  readonly clock?: () => number;
  /** Uniform in [0, 1), for peer sampling. */
  readonly random?: () => number;
}

export function createApp(config: Config, deps: AppDeps): App {
  const { logger } = deps;
  const { tracker } = config;
  const metrics = deps.metrics ?? createMetrics('tracker');
  const clientTls = createClientTls(config.tls.client, { logger });
  const originRing = createLiveRing(config.origins, { logger, tls: clientTls });
  const origin = createOriginRingClient({
    ring: originRing,
    tls: clientTls,
    connections: config.origin.connections,
    metainfoTimeoutMs: config.origin.metainfoTimeoutMs,
  });
  const server = createHttpServer({
    logger,
    metrics,
    tls: config.tls.server,
    readinessChecks: [{ name: 'origin', check: (signal) => origin.ping(signal) }],
  });
  const routes = createTrackerRoutes({
    store: createPeerStore({
      ttlMs: tracker.peerTtlSeconds * 1000,
      maxPeersPerBlob: tracker.maxPeersPerBlob,
      maxBlobs: tracker.maxBlobs,
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    }),
    policy: createPeerPolicy({
      priority: tracker.priority,
      ...(deps.random === undefined ? {} : { random: deps.random }),
    }),
    metainfo: origin,
    metrics,
    peersPerAnnounce: tracker.peersPerAnnounce,
    announceIntervalSeconds: tracker.announceIntervalSeconds,
    metainfoCacheBytes: tracker.metainfoCacheBytes,
    originSeeds: {
      // Every healthy owner seeds: losing one origin leaves the swarm with others.
      request: (digest, signal) => origin.seedOwners(digest, signal),
      waitMs: config.origin.seedWaitMs,
      retryMs: config.origin.seedRetryMs,
      timeoutMs: config.origin.metainfoTimeoutMs,
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    },
  });
  return createServiceApp({
    component: 'tracker',
    server,
    listen: config.listen,
    logger,
    describe: { origins: originRing.members().map((node) => node.url) },
    beforeListen: async () => {
      await originRing.start();
      await server.register(routes);
    },
    afterClose: async () => {
      await origin.close();
      originRing.close();
      clientTls.close();
    },
  });
}
