/**
 * The agent: a read-only registry on each host. Tags resolve through the build-index,
 * content comes from the origins once and is then served from the local disk cache.
 */
import { systemClock } from '@kraken/foundation';
import { createAgentRegistryStore } from './registry-store.js';
import { createBuildIndexClusterClient } from '@kraken/build-index';
import { createOriginRingClient } from '@kraken/origin';
import { registryApi } from '@kraken/registry-api';
import {
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
  const fetched = metrics.counter(
    'blob_fetch_bytes_total',
    'Bytes of content fetched into the local cache, by source.',
    ['source'] as const,
  );
  const cacheHits = metrics.counter('blob_cache_reads_total', 'Blob reads served from the local cache.');
  const originRing = createLiveRing(config.origins, { logger: deps.logger });
  const origin = createOriginRingClient({ ring: originRing });
  const buildIndexRing = createLiveRing(config.buildIndex, { logger: deps.logger });
  const buildIndex = createBuildIndexClusterClient({ ring: buildIndexRing });
  const evictions = metrics.counter('blob_cache_evictions_total', 'Blobs evicted from the local cache.');
  const cache = createContentCache({
    root: config.cache.dir,
    maxBytes: config.cache.maxBytes,
    onEvict: () => evictions.inc(),
  });
  metrics.gauge('blob_cache_bytes', 'Bytes held by the local cache.', {
    collect: (gauge) => gauge.set(cache.usage().bytes),
  });
  const trackerRing = createLiveRing(config.trackers, { logger: deps.logger });
  const tracker = createTrackerRingClient({ ring: trackerRing });
  const p2pLogger = deps.logger.child({ component: 'p2p' });
  const node = createPeerNode({ config: config.p2p, announcer: tracker, logger: p2pLogger });
  const swarmFetches = metrics.counter(
    'blob_fetches_total',
    'Blobs fetched into the cache, by path (swarm, direct, fallback) and result.',
    ['path', 'result'] as const,
  );
  const swarmBytes = metrics.counter(
    'swarm_bytes_total',
    'Piece bytes received through the swarm, by source (peer or origin).',
    ['source'] as const,
  );
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
    readPiece: (info) => createPieceReader(info, (range) => cache.read(parseDigest(info.digest), range)),
    pieceStore: node.pieceStore,
    fallbackAfterMs: config.p2p.fallbackAfterMs,
    timers: systemClock,
    logger: p2pLogger,
    onFetched: (outcome) => {
      swarmFetches.inc({ path: outcome.path, result: outcome.ok ? 'ok' : 'missing' });
      if (outcome.swarm !== undefined) {
        swarmBytes.inc({ source: 'peer' }, outcome.swarm.bytesFromPeers);
        swarmBytes.inc({ source: 'origin' }, outcome.swarm.bytesFromOrigins);
      }
    },
  });
  metrics.gauge('swarm_blobs', 'Blobs in a swarm (downloading or seeding).', {
    collect: (gauge) => gauge.set(node.scheduler.list().length),
  });
  metrics.gauge('swarm_peers_connected', 'Peers connected over all swarms.', {
    collect: (gauge) => gauge.set(node.scheduler.list().reduce((sum, blob) => sum + blob.peersConnected, 0)),
  });
  const store = createAgentRegistryStore({
    origin,
    buildIndex,
    cache,
    swarm: fetcher,
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
  server.register(async (app) => registerSwarmStatusRoute(app, { fetcher, cache }));

  return createServiceApp({
    component: 'agent',
    server,
    listen: config.listen,
    logger: deps.logger,
    describe: { cache: config.cache.dir, p2p: `${config.p2p.listen.host}:${config.p2p.listen.port}` },
    beforeListen: async () => {
      await cache.start();
      await originRing.start();
      await Promise.all([trackerRing.start(), buildIndexRing.start()]);
      await node.start();
    },
    afterClose: async () => {
      await node.close();
      originRing.close();
      await Promise.all([origin.close(), buildIndex.close(), tracker.close(), cache.close()]);
      trackerRing.close();
      buildIndexRing.close();
    },
  });
}
