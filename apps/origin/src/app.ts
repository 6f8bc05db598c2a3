/**
 * The origin service: the content-addressed blob API over the configured storage
 * backend, plus /health, /readiness (which checks the backend) and /metrics.
 */
import {
  createOriginMetainfo,
  createOriginReplication,
  createOriginRingClient,
  createOriginRoutes,
  createOriginStorage,
  createOriginUpstreams,
} from '@kraken/origin';
import { systemClock } from '@kraken/foundation';
import { createLiveRing, formatHostPort } from '@kraken/hashring';
import {
  createPeerNode,
  createPieceReader,
  createSwarmSeeder,
  firstPieceOf,
  createAnnounceBatcher,
  createTrackerRingClient,
} from '@kraken/p2p-core';
import {
  createClientTls,
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
  type Metrics,
} from '@kraken/service-kit';
import { parseDigest } from '@kraken/oci-content';
import type { StorageBackend } from '@kraken/storage-backends';
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
  // TLS of every request to another component; a bad file fails here, before anything opens.
  const clientTls = createClientTls(config.tls.client, { logger });
  const storage = createOriginStorage(config, {
    logger,
    metrics,
    ...(deps.backend === undefined ? {} : { backend: deps.backend }),
  });
  const { store } = storage;
  const server = createHttpServer({
    logger,
    metrics,
    tls: config.tls.server,
    writers: config.tls.writers,
    readinessChecks: [
      { name: 'storage', check: (signal) => store.check(signal) },
      { name: 'cache', check: (signal) => store.checkLocal(signal) },
    ],
  });
  const metainfo = createOriginMetainfo({ store, pieceHashing: config.metainfo.pieceHashing });
  // The origin ring: peers probed on /readiness, so a starting origin gets no copies.
  const originRing = createLiveRing(config.origins, { logger, tls: clientTls });
  const peers = createOriginRingClient({ ring: originRing, tls: clientTls });
  const self = config.replication.self ?? formatHostPort(config.listen.host, config.listen.port);
  const replication = createOriginReplication({
    ring: originRing,
    self,
    store,
    clientOf: (peer) => peers.nodeClient(peer),
    config: config.replication,
    logger,
    metrics,
    timers: systemClock,
  });
  const trackerRing = createLiveRing(config.trackers, { logger, tls: clientTls });
  const tracker = createTrackerRingClient({ ring: trackerRing, tls: clientTls });
  const p2pLogger = logger.child({ component: 'p2p' });
  // An origin seeds thousands of blobs: each tracker gets them in one request per interval.
  const announcer = createAnnounceBatcher({ client: tracker, timers: systemClock, metrics });
  const node = createPeerNode({
    config: config.p2p,
    announcer,
    origin: true,
    logger: p2pLogger,
    metrics,
  });
  const seeder = createSwarmSeeder({
    scheduler: node.scheduler,
    metainfo: async (digest) => (await metainfo.get(digest))?.metainfo,
    readPiece: (info) => {
      const digest = parseDigest(info.digest);
      // A locally cached blob is seeded from its open file (pinned until it leaves the
      // swarm); one that is not is read through, piece by piece.
      return createPieceReader(info, (range) => store.read(digest, range), {
        open: () => store.openFile(digest),
      });
    },
    // The blob's owners share the first pass: each starts at its own stretch of the blob.
    firstPiece: (info) => {
      const owners = originRing.owners(info.digest);
      const rank = owners.findIndex((node) => node.id === self);
      return firstPieceOf(info.pieceHashes.length, rank, owners.length);
    },
    idleMs: config.seeding.idleSeconds * 1000,
    maxBlobs: config.seeding.maxBlobs,
    timers: systemClock,
    logger: p2pLogger,
    metrics,
  });
  const upstreams = createOriginUpstreams(config.upstreams, { metrics });
  const routes = createOriginRoutes({
    store,
    metainfo,
    upstreams: {
      reader: (ref) => store.through(upstreams.source(ref)),
      resolveTag: (registry, repository, tag) => upstreams.resolveTag(registry, repository, tag),
    },
    seeding: {
      seed: async (digest) => {
        const bound = node.address();
        if (bound === undefined || !(await seeder.seed(digest))) return undefined;
        return { peerId: node.peerId, host: config.p2p.advertiseHost, port: bound.port };
      },
    },
    onStored: (event) => replication.onStored(event),
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
    describe: {
      storage: storage.name,
      p2p: `${config.p2p.listen.host}:${config.p2p.listen.port}`,
      p2pMembership: node.membership,
      ...(upstreams.names.length === 0 ? {} : { upstreams: upstreams.names.join(', ') }),
    },
    beforeListen: async () => {
      await store.start();
      await trackerRing.start();
      await node.start();
      await server.register(routes);
      await originRing.start();
      replication.start();
    },
    afterClose: async () => {
      await replication.close();
      originRing.close();
      await peers.close();
      seeder.close();
      await node.close();
      announcer.close();
      await tracker.close();
      trackerRing.close();
      await storage.close();
      await upstreams.close();
      clientTls.close();
    },
  });
}
