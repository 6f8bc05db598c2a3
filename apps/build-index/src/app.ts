/**
 * The build-index service: the /v1/ tag, manifest-record and referrer API over a
 * storage backend, with tag writes checked against the origin, plus /health,
 * /readiness (storage and origin) and /metrics. A node with peers replicates every
 * tag write to them before answering and pulls what it missed from them on an
 * interval (see cluster/cluster.ts in @kraken/build-index). Replication rules copy
 * matching tags, with their content, to other clusters (replication/ there).
 */
import {
  createBuildIndexCluster,
  createBuildIndexReplication,
  createBuildIndexRoutes,
} from '@kraken/build-index';
import { join } from 'node:path';
import type { Clock } from '@kraken/foundation';
import { createOriginRingClient, type OriginClient } from '@kraken/origin';
import { createLiveRing } from '@kraken/hashring';
import {
  createClientTls,
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
  /** Wall clock of tag versions and `updatedAt`; tests run a cluster ahead or behind. */
  readonly now?: () => Date;
  /** Wall-clock time and timers of the replication queue and backfill; tests pass a manual clock. */
  readonly replicationClock?: Clock;
}

export function createApp(config: Config, deps: AppDeps): App {
  const { logger } = deps;
  const metrics = deps.metrics ?? createMetrics('build-index');
  // TLS of every request to another component; a bad file fails here, before anything opens.
  const clientTls = createClientTls(config.tls.client, { logger });
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
  const originRing = createLiveRing(config.origins, { logger, tls: clientTls });
  const ownRing = deps.origin === undefined;
  const origin =
    deps.origin ??
    createOriginRingClient({
      ring: originRing,
      connections: config.origin.connections,
      headersTimeoutMs: config.origin.timeoutMs,
      bodyTimeoutMs: config.origin.timeoutMs,
      tls: clientTls,
    });
  const { advertiseUrl, clusterId } = config.replication;
  const cluster = createBuildIndexCluster({
    backend,
    peers: config.cluster.peers,
    replicationTimeoutMs: config.cluster.replicationTimeoutMs,
    antiEntropyIntervalMs: config.cluster.antiEntropyIntervalMs,
    clusterId,
    nodeId: advertiseUrl ?? `${config.listen.host}:${config.listen.port}`,
    logger,
    metrics,
    tls: clientTls,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const closure = {
    concurrency: config.contentCheck.concurrency,
    maxDepth: config.contentCheck.maxIndexDepth,
    maxManifests: config.contentCheck.maxManifests,
  };
  let listeningUrl = (): string => '';
  const replication = createBuildIndexReplication({
    // The queue sits with the node's own data, so nodes of one host never share it.
    config: {
      ...config.replication,
      dbPath:
        config.replication.dbPath ??
        (config.storage.type === 'filesystem' ? join(config.storage.root, 'replication.db') : undefined),
    },
    cluster,
    backend,
    origin,
    origins: () => ({
      nodes: originRing.members().map((node) => node.url),
      replicas: config.origins.replicas,
    }),
    selfUrl: () => advertiseUrl ?? (listeningUrl() || undefined),
    closure,
    logger,
    metrics,
    tls: clientTls,
    ...(deps.replicationClock ? { clock: deps.replicationClock } : {}),
  });
  const server = createHttpServer({
    logger,
    metrics,
    tls: config.tls.server,
    writers: config.tls.writers,
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
      tags: cluster.tags,
      // Queued for other clusters before the peers are told: the queue is durable, the push is not.
      onTagPut: async (write) => {
        replication.onTagWrite(write);
        await cluster.replicateTag(write.repo, write.tag, write.value, write.record);
      },
      // A referrer pushed after its tag re-queues the tag, whose closure now holds it.
      onManifestPut: (write) => replication.onManifestWrite(write),
      onTagDelete: async (event) => {
        replication.onTagDelete(event);
        await cluster.replicateDelete(event.repo, event.tag, event.tombstone);
      },
      closure,
    }),
  );
  void server.register(cluster.routes);
  void server.register(replication.routes);

  const app = createServiceApp({
    component: 'build-index',
    server,
    listen: config.listen,
    logger,
    describe: {
      storage: backend.name,
      origins: originRing.members().map((node) => node.url),
      peers: config.cluster.peers,
      cluster: clusterId,
      replicationRules: config.replication.rules.map((rule) => rule.name),
    },
    // A node that was down pulls what it missed as soon as it starts.
    beforeListen: async () => {
      if (ownRing) await originRing.start();
      await cluster.start();
      await replication.start();
    },
    // In-flight requests drain first; the origin pool and backend go after them.
    afterClose: async () => {
      await replication.close();
      await cluster.close();
      await Promise.all([origin.close(), backend.close()]);
      originRing.close();
      clientTls.close();
    },
  });
  listeningUrl = () => app.url;
  return app;
}
