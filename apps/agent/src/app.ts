/**
 * The agent: a read-only registry on each host. Tags resolve through the build-index,
 * content comes from the origins once and is then served from the local disk cache.
 */
import { systemClock } from '@kraken/foundation';
import { createAgentRegistryStore } from './registry-store.js';
import { createContentFetch } from './content-fetch.js';
import { createMirrors } from './mirror/mirrors.js';
import { registerMirrorStatusRoute } from './mirror/mirror-routes.js';
import { createBuildIndexClusterClient } from '@kraken/build-index';
import { createOriginRingClient } from '@kraken/origin';
import { registryApi } from '@kraken/registry-api';
import {
  createClientTls,
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
} from '@kraken/service-kit';
import { createContentCache } from '@kraken/storage-backends';
import { stat, unlink } from 'node:fs/promises';
import { createLiveRing } from '@kraken/hashring';
import {
  createAnnounceBatcher,
  createPeerNode,
  createPieceReader,
  createSwarmFetcher,
  createTrackerRingClient,
} from '@kraken/p2p-core';
import { parseDigest } from '@kraken/oci-content';
import type { Config } from './config.js';
import { registerSwarmStatusRoute } from './swarm-status-route.js';

export type App = ServiceApp;

export function createApp(config: Config, deps: { logger: Logger }): App {
  const metrics = createMetrics('agent');
  const clientTls = createClientTls(config.tls.client, { logger: deps.logger });
  const originRing = createLiveRing(config.origins, { logger: deps.logger, tls: clientTls });
  const origin = createOriginRingClient({ ring: originRing, tls: clientTls });
  const buildIndexRing = createLiveRing(config.buildIndex, { logger: deps.logger, tls: clientTls });
  const buildIndex = createBuildIndexClusterClient({ ring: buildIndexRing, tls: clientTls });
  const cache = createContentCache({ root: config.cache.dir, maxBytes: config.cache.maxBytes, metrics });
  const trackerRing = createLiveRing(config.trackers, { logger: deps.logger, tls: clientTls });
  const tracker = createTrackerRingClient({ ring: trackerRing, tls: clientTls });
  const p2pLogger = deps.logger.child({ component: 'p2p' });
  // Each tracker gets one request per interval carrying all of this node's blobs.
  const announcer = createAnnounceBatcher({ client: tracker, timers: systemClock, metrics });
  const node = createPeerNode({ config: config.p2p, announcer, logger: p2pLogger, metrics });
  const fetcher = createSwarmFetcher({
    scheduler: node.scheduler,
    metainfo: (digest, signal) => tracker.getMetainfo(digest, signal),
    adopter: {
      // A hard link into the cache, then the piece store's name goes: no copy is made.
      adopt: async (digest, path) => {
        const { size } = await stat(path);
        await cache.adopt(digest, path, size);
        await unlink(path);
      },
    },
    readPiece: (info) => {
      const digest = parseDigest(info.digest);
      // Seeding keeps the cached blob open (and pinned) until it leaves the swarm.
      return createPieceReader(info, (range) => cache.read(digest, range), {
        open: () => cache.openFile(digest),
      });
    },
    pieceStore: node.pieceStore,
    buffers: node.buffers,
    fallbackAfterMs: config.p2p.fallbackAfterMs,
    timers: systemClock,
    logger: p2pLogger,
    metrics,
  });
  const content = createContentFetch({ origin, cache, swarm: fetcher, metrics });
  const store = createAgentRegistryStore({
    content,
    buildIndex,
    cache,
    tagTtlMs: config.cache.tagTtlSeconds * 1000,
    staleTagIfErrorMs: config.cache.staleTagIfErrorSeconds * 1000,
  });
  const mirrors = createMirrors(config.mirror, { content, cache, origin, clock: systemClock, metrics });
  const server = createHttpServer({
    logger: deps.logger,
    metrics,
    tls: config.tls.server,
    readinessChecks: [
      { name: 'cache', check: (signal) => cache.check(signal) },
      { name: 'origin', check: (signal) => origin.ping(signal) },
      { name: 'build-index', check: (signal) => buildIndex.ping(signal) },
    ],
  });
  server.register(registryApi, {
    store,
    mirrors: (registry) =>
      config.mirror.pushRegistries.includes(registry) ? store : mirrors.storeFor(registry),
    limits: config.registry.limits,
    logger: deps.logger,
    metrics,
  });
  server.register(async (app) => {
    registerSwarmStatusRoute(app, { fetcher, cache });
    registerMirrorStatusRoute(app, { status: mirrors.status, tagsCached: mirrors.tagsCached });
  });

  return createServiceApp({
    component: 'agent',
    server,
    listen: config.listen,
    logger: deps.logger,
    describe: {
      cache: config.cache.dir,
      p2p: `${config.p2p.listen.host}:${config.p2p.listen.port}`,
      p2pMembership: node.membership,
      ...(config.mirror.upstreams.length === 0
        ? {}
        : { mirrors: config.mirror.upstreams.map((u) => u.name).join(', ') }),
    },
    beforeListen: async () => {
      await cache.start();
      await originRing.start();
      await Promise.all([trackerRing.start(), buildIndexRing.start()]);
      await node.start();
    },
    afterClose: async () => {
      await node.close();
      announcer.close();
      originRing.close();
      await Promise.all([origin.close(), buildIndex.close(), tracker.close(), cache.close()]);
      trackerRing.close();
      buildIndexRing.close();
      clientTls.close();
    },
  });
}
