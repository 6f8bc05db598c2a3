/**
 * Cross-cluster replication of a build-index node, composed: the rules (config file
 * and API, shared by the cluster's nodes), the durable task queue, the replicator that
 * turns changes into tasks and tasks into copies, backfill, the receiving side, the
 * status and the metrics. The app wires its tag writes in (`onTagWrite`,
 * `onTagDelete`) and its new manifest records (`onManifestWrite`: referrers pushed
 * after their tag), and serves `routes`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Clock } from '@kraken/foundation';
import type { OriginClient } from '@kraken/origin';
import type { Logger, Metrics, ClientTlsContext } from '@kraken/service-kit';
import type { StorageBackend } from '@kraken/storage-backends';
import { createManifestClosureCheck } from '../api/manifest-closure.js';
import type { ManifestWrite, TagDelete, TagWrite } from '../api/routes.js';
import type { BuildIndexCluster } from '../cluster/cluster.js';
import { createBackfill } from './backfill.js';
import { createChangeRoutes } from './change-routes.js';
import { createClosureCopier } from './closure-copy.js';
import { createOwnership } from './ownership.js';
import { createReferrerTrigger } from './referrer-trigger.js';
import { createRemoteClusters } from './remote-cluster.js';
import { createReplicationMetrics } from './replication-metrics.js';
import { createReplicator, type ChangeEvent } from './replicator.js';
import {
  DEFAULT_REPLICATION_DB_PATH,
  compileRule,
  destinationKey,
  type ReplicationConfig,
} from './rule-config.js';
import { createRuleRoutes } from './rule-routes.js';
import { createRuleStore } from './rule-store.js';
import { createRuleSync } from './rule-sync.js';
import { createStatusReporter, type ReplicationStatus } from './status.js';
import { createTaskQueue } from './task-queue.js';

export interface BuildIndexReplicationOptions {
  readonly config: ReplicationConfig;
  /** This node's cluster membership: its tag store, its peers, and pushes to them. */
  readonly cluster: BuildIndexCluster;
  /** The node's storage backend (API rules live there). */
  readonly backend: StorageBackend;
  /** This cluster's origin ring: closures are read from it and checked on it. */
  readonly origin: Pick<OriginClient, 'statBlob' | 'getBlob'>;
  /** This cluster's origin ring as other clusters reach it. */
  readonly origins: () => { nodes: string[]; replicas: number };
  /** This node's base URL as its peers list it, once known (default: `config.advertiseUrl`). */
  readonly selfUrl?: () => string | undefined;
  /** Limits of the content check of received changes (as the tag API's). */
  readonly closure?: {
    readonly concurrency?: number;
    readonly maxDepth?: number;
    readonly maxManifests?: number;
  };
  /** Wall-clock ms (queue due times outlive the process) and timers; tests pass a manual clock. */
  readonly clock?: Clock;
  /** Uniform in [0, 1), for retry jitter. */
  readonly random?: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** TLS to peers and destinations: the client files (`createClientTls`). */
  readonly tls?: ClientTlsContext | undefined;
}

export interface BuildIndexReplication {
  /** `/v1/replication/...` (rules, status, changes, tags, cluster) and the peers' rule routes. */
  readonly routes: FastifyPluginAsync;
  /** Queues a tag write this node accepted for every matching rule; call before answering it. */
  onTagWrite(write: TagWrite): void;
  /** Queues a tag delete this node accepted for every matching rule with `deletes`. */
  onTagDelete(event: TagDelete): void;
  /** Queues again the tags a new referrer belongs to; call before answering its record write. */
  onManifestWrite(write: ManifestWrite): Promise<void>;
  /** Loads the rules, opens the queue, and starts rule sync and backfill. */
  start(): Promise<void>;
  /** Runs a backfill sweep of the named rules (all when none) and resolves when it is done. */
  backfill(rules?: readonly string[]): Promise<void>;
  status(): ReplicationStatus;
  /** True when no task is queued or running. */
  idle(): boolean;
  close(): Promise<void>;
}

/** Wall-clock time; timers unref'd, since the server is what keeps the process alive. */
const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function createBuildIndexReplication(options: BuildIndexReplicationOptions): BuildIndexReplication {
  const { config, cluster, logger } = options;
  const { clusterId } = config;
  const tags = cluster.tags;
  const clock = options.clock ?? wallClock;
  const timeoutMs = config.requestTimeoutMs;
  const log = logger.child({ component: 'replication' });
  const selfUrl = () => options.selfUrl?.() ?? config.advertiseUrl;

  const rules = createRuleStore({
    backend: options.backend,
    clock: tags.clock,
    configRules: config.rules,
    onLocalWrite: (record) => sync.push(record),
  });
  const sync = createRuleSync({
    rules,
    peers: cluster.peers,
    intervalMs: config.rulesRefreshSeconds * 1000,
    timeoutMs: Math.min(timeoutMs, 5_000),
    timers: clock,
    logger,
    tls: options.tls,
  });
  const remotes = createRemoteClusters({
    logger,
    timeoutMs,
    refreshMs: 60_000,
    now: () => clock.now(),
    tls: options.tls,
  });
  const metrics = createReplicationMetrics(options.metrics, {
    rules: () => {
      try {
        return reporter.gauges();
      } catch {
        return []; // closed
      }
    },
    ruleCount: () => ({
      config: rules.list().filter((r) => r.source === 'config').length,
      api: rules.list().filter((r) => r.source === 'api').length,
    }),
  });
  const copier = createClosureCopier({
    clusterId,
    origin: options.origin,
    store: tags.plain,
    blobConcurrency: config.blobConcurrency,
    // Index nesting, plus a few levels of referrers (a signature of an SBOM of an image).
    maxDepth: (options.closure?.maxDepth ?? 4) + 4,
    maxManifests: options.closure?.maxManifests ?? 256,
    timers: clock,
  });
  const queue = createTaskQueue({
    dbPath: config.dbPath ?? DEFAULT_REPLICATION_DB_PATH,
    concurrency: config.concurrency,
    backoff: config.retry,
    perform: (task, signal) => replicator.perform(task, signal),
    onSettled: (event) => replicator.settled(event),
    clock,
    ...(options.random === undefined ? {} : { random: options.random }),
    logger,
  });
  const replicator = createReplicator({
    clusterId,
    tags,
    remotes,
    copier,
    queue,
    metrics,
    onRecovered: (rule) => void backfill.run([rule]),
    clock,
    logger,
  });
  const backfill = createBackfill({
    clusterId,
    rules: () => replicator.rules(),
    tags,
    remotes,
    ownership: createOwnership({
      self: () => selfUrl() ?? '',
      alivePeers: () => sync.refresh(),
    }),
    enqueue: (compiled, change) =>
      queue.enqueue({
        ...change,
        rule: compiled.rule.name,
        destination: destinationKey(compiled.rule.destination),
        exclude: [],
      }) !== 'unchanged',
    intervalMs: config.backfillIntervalSeconds * 1000,
    repositoriesPerSecond: config.backfillRepositoriesPerSecond,
    retry: config.retry,
    clock,
    now: () => clock.now(),
    metrics,
    logger,
  });
  const reporter = createStatusReporter({
    clusterId,
    node: () => selfUrl() ?? '',
    rules,
    queue,
    remotes,
    backfill,
    now: () => clock.now(),
  });
  let started = false;
  let closed = false;

  const applyRules = (): void => {
    const toBackfill = replicator.setRules(rules.list().map(compileRule));
    if (started && toBackfill.length > 0) void backfill.run(toBackfill);
  };
  rules.watch(applyRules);
  applyRules();

  const enqueue = (change: ChangeEvent): void => {
    try {
      replicator.enqueue(change);
    } catch (err) {
      // The write stands; the next backfill sweep finds what this failed to queue.
      log.error(
        { err, repository: change.repository, tag: change.tag },
        'queueing a replication task failed',
      );
    }
  };

  const referrerTrigger = createReferrerTrigger({ clusterId, tags, enqueue });

  const describeCluster = (request: FastifyRequest) => {
    const self = selfUrl() ?? `${request.protocol}://${request.host}`;
    return { clusterId, buildIndex: [self, ...cluster.peers], origins: options.origins() };
  };

  const changeRoutes = createChangeRoutes({
    tags,
    checkClosure: createManifestClosureCheck({
      origin: options.origin,
      ...(options.closure?.concurrency === undefined ? {} : { concurrency: options.closure.concurrency }),
      ...(options.closure?.maxDepth === undefined ? {} : { maxDepth: options.closure.maxDepth }),
      ...(options.closure?.maxManifests === undefined ? {} : { maxManifests: options.closure.maxManifests }),
    }),
    cluster,
    onApplied: (change) =>
      enqueue({
        repository: change.repository,
        tag: change.tag,
        kind: change.kind,
        digest: change.digest,
        version: change.version,
        origin: change.origin,
        from: change.from,
      }),
    describe: describeCluster,
    metrics,
  });

  return {
    routes: async function replicationRoutes(app: FastifyInstance) {
      await app.register(createRuleRoutes({ rules }));
      await app.register(reporter.routes);
      await app.register(changeRoutes);
      await app.register(sync.routes);
    },

    onTagWrite(write) {
      enqueue({
        repository: write.repo,
        tag: write.tag,
        kind: 'put',
        digest: write.value.digest,
        version: write.value.version,
        origin: clusterId,
      });
    },

    onTagDelete(event) {
      enqueue({
        repository: event.repo,
        tag: event.tag,
        kind: 'delete',
        version: event.tombstone.version,
        origin: clusterId,
      });
    },

    async onManifestWrite(write) {
      try {
        await referrerTrigger(write);
      } catch (err) {
        // The record stands; the tag's next push or a re-push of the referrer carries it.
        log.error(
          { err, repository: write.repo, digest: write.record.digest },
          'queueing the tags of a referrer failed',
        );
      }
    },

    async start() {
      if (started || closed) return;
      await rules.load();
      queue.start();
      started = true;
      sync.start();
      // The first sweep waits for the first rules pull: it decides who owns what.
      void sync.refresh().then(() => {
        if (!closed) backfill.start();
      });
    },

    backfill: (names) => backfill.run(names),
    status: () => reporter.status(),
    idle: () => closed || queue.idle(),

    async close() {
      if (closed) return;
      closed = true;
      await backfill.close();
      await sync.close();
      await queue.close();
      await remotes.close();
    },
  };
}
