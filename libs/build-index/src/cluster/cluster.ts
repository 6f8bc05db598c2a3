/**
 * A build-index node's membership in its cluster: every node holds every tag.
 *
 * - Write path: the node that accepts a tag write (after its content check) stores it,
 *   then pushes it synchronously to every peer and answers once each peer acked or
 *   failed (bounded by the replication timeout). A pusher that reads through any
 *   reachable node therefore sees its own write, and losing one node loses no tag.
 * - Deletes leave a tombstone with their time on the accepting node and are pushed the
 *   same way; a tombstone beats every value written at or before it.
 * - Repair: a peer that missed writes (down, partitioned, timed out) catches up by an
 *   anti-entropy sweep: every node periodically pulls each peer's tag values and
 *   tombstones and keeps the newer of each pair (by `updatedAt`, then digest). A node
 *   sweeps at start, so a restarted node is current within one pass.
 *
 * Why not a quorum or a consensus log: tags are single values with last-writer-wins
 * semantics already (replication between clusters works the same way), writes are
 * rare next to reads, and clusters are small (2-5 nodes). Pushing to all and repairing
 * by pull keeps every node able to accept writes and serve reads alone, which is what
 * "losing a node blocks no pull" needs; the price is that concurrent writes of one tag
 * through different nodes resolve by wall-clock time, and that tombstones are kept
 * (they are tiny, and deletes are rare).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Logger, Metrics } from '@kraken/service-kit';
import type { StorageBackend } from '@kraken/storage-backends';
import type { ManifestRecord } from '../contracts.js';
import type { StoredTag } from '../store/tag-store.js';
import { systemClock, type Timers } from '@kraken/foundation';
import { isDeletedBy, isNewerTag } from './replica-protocol.js';
import { createBuildIndexReplicaClient, type BuildIndexReplicaClient } from './replica-client.js';
import { createReplicaRoutes } from './replica-routes.js';
import { createReplicaStore } from '../store/replica-store.js';

export interface BuildIndexClusterOptions {
  readonly backend: StorageBackend;
  /** Base URLs of the other nodes (never this one). */
  readonly peers: readonly string[];
  /** Time a peer gets to ack a replicated write (ms). */
  readonly replicationTimeoutMs: number;
  /** Milliseconds between anti-entropy sweeps; 0 disables them. */
  readonly antiEntropyIntervalMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly timers?: Timers;
  /** Clock of tombstones' `deletedAt`. */
  readonly now?: () => Date;
  /** Builds the client of one peer; tests inject their own. */
  readonly clientFor?: (url: string) => BuildIndexReplicaClient;
}

export interface ReplicationOutcome {
  /** Peers that hold the value (or a newer one) now. */
  readonly acked: readonly string[];
  /** Peers that did not answer in time or failed; the sweep repairs them. */
  readonly failed: readonly string[];
}

export interface SweepReport {
  /** Tag values and deletions pulled from peers because they were newer than ours. */
  readonly repaired: number;
  /** Peers whose sweep failed part-way. */
  readonly failedPeers: readonly string[];
}

export interface BuildIndexCluster {
  /** The /v1/replica/ routes peers call. */
  readonly routes: FastifyPluginAsync;
  readonly peers: readonly string[];
  /** Pushes a tag write this node accepted to every peer. */
  replicateTag(
    repo: string,
    tag: string,
    value: StoredTag,
    record?: ManifestRecord,
  ): Promise<ReplicationOutcome>;
  /** Records a tag delete this node accepted (a tombstone) and pushes it to every peer. */
  replicateDelete(repo: string, tag: string): Promise<ReplicationOutcome>;
  /** One anti-entropy pass over every peer; concurrent calls share the pass in flight. */
  sweep(): Promise<SweepReport>;
  /** Sweeps now, then every interval. */
  start(): void;
  close(): Promise<void>;
}

/** Repositories asked for per catalog page during a sweep. */
const CATALOG_PAGE = 1000;

export function createBuildIndexCluster(options: BuildIndexClusterOptions): BuildIndexCluster {
  const log = options.logger.child({ component: 'build-index-cluster' });
  const timers = options.timers ?? systemClock;
  const now = options.now ?? (() => new Date());
  const store = createReplicaStore({ backend: options.backend });
  const build =
    options.clientFor ??
    ((url: string) => createBuildIndexReplicaClient({ url, timeoutMs: options.replicationTimeoutMs }));
  const peers = options.peers.map((url) => build(url));
  const pushes = options.metrics.counter(
    'replication_pushes_total',
    'Tag writes and deletes pushed to peers, by result.',
    ['result'] as const,
  );
  const repairs = options.metrics.counter(
    'anti_entropy_repairs_total',
    'Tag values pulled from a peer by anti-entropy because they were newer.',
  );
  const sweeps = options.metrics.counter('anti_entropy_sweeps_total', 'Anti-entropy passes, by result.', [
    'result',
  ] as const);
  const controller = new AbortController();
  let sweeping: Promise<SweepReport> | undefined;
  let timer: unknown;
  let closed = false;
  let started = false;

  /** Runs `push` against every peer at once, each bounded by the replication timeout. */
  const toAll = async (
    what: object,
    push: (peer: BuildIndexReplicaClient, signal: AbortSignal) => Promise<unknown>,
  ): Promise<ReplicationOutcome> => {
    const acked: string[] = [];
    const failed: string[] = [];
    await Promise.all(
      peers.map(async (peer) => {
        const signal = AbortSignal.any([
          controller.signal,
          AbortSignal.timeout(options.replicationTimeoutMs),
        ]);
        try {
          await push(peer, signal);
          acked.push(peer.url);
          pushes.inc({ result: 'ok' });
        } catch (err) {
          failed.push(peer.url);
          pushes.inc({ result: 'failed' });
          log.warn(
            { ...what, peer: peer.url, err },
            'replication to a peer failed; anti-entropy will repair it',
          );
        }
      }),
    );
    return { acked, failed };
  };

  const sweepPeer = async (peer: BuildIndexReplicaClient): Promise<number> => {
    const { signal } = controller;
    let repaired = 0;
    let last: string | undefined;
    for (;;) {
      const page = await peer.listRepositories(
        last === undefined ? { n: CATALOG_PAGE } : { n: CATALOG_PAGE, last },
        signal,
      );
      for (const repo of page) {
        const remote = await peer.listTagValues(repo, signal);
        if (remote === undefined || remote.tags.length + remote.deleted.length === 0) continue;
        const listing = await store.list(repo);
        const local = new Map(listing?.tags.map((entry) => [entry.tag, entry]));
        const localDeleted = new Map(listing?.deleted.map((entry) => [entry.tag, entry.deletedAt]));
        for (const { tag, ...value } of remote.tags) {
          if (!isNewerTag(value, local.get(tag))) continue;
          const deletedAt = localDeleted.get(tag);
          if (deletedAt !== undefined && isDeletedBy(value, deletedAt)) continue;
          const record = await peer.getManifest(repo, value.digest, signal);
          if ((await store.apply(repo, tag, value, record)).applied) {
            repaired++;
            repairs.inc();
            log.info({ repo, tag, digest: value.digest, peer: peer.url }, 'tag repaired from a peer');
          }
        }
        for (const { tag, deletedAt } of remote.deleted) {
          const known = localDeleted.get(tag);
          if (known !== undefined && Date.parse(known) >= Date.parse(deletedAt)) continue;
          if ((await store.applyDelete(repo, tag, deletedAt)).applied) {
            repaired++;
            repairs.inc();
            log.info({ repo, tag, deletedAt, peer: peer.url }, 'tag deletion repaired from a peer');
          }
        }
      }
      if (page.length < CATALOG_PAGE) return repaired;
      last = page.at(-1);
    }
  };

  const runSweep = async (): Promise<SweepReport> => {
    let repaired = 0;
    const failedPeers: string[] = [];
    for (const peer of peers) {
      try {
        repaired += await sweepPeer(peer);
      } catch (err) {
        if (closed) break;
        failedPeers.push(peer.url);
        log.warn({ peer: peer.url, err }, 'anti-entropy sweep of a peer failed');
      }
    }
    sweeps.inc({ result: failedPeers.length === 0 ? 'ok' : 'partial' });
    return { repaired, failedPeers };
  };

  const sweep = (): Promise<SweepReport> => {
    sweeping ??= runSweep().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };

  const schedule = (): void => {
    if (closed || options.antiEntropyIntervalMs <= 0) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void sweep().finally(schedule);
    }, options.antiEntropyIntervalMs);
  };

  return {
    routes: createReplicaRoutes({ store }),
    peers: peers.map((peer) => peer.url),

    replicateTag(repo, tag, value, record) {
      const put = { digest: value.digest, updatedAt: value.updatedAt, ...(record ? { record } : {}) };
      return toAll({ repo, tag, digest: value.digest }, (peer, signal) =>
        peer.putTag(repo, tag, put, signal),
      );
    },

    async replicateDelete(repo, tag) {
      const deletedAt = now().toISOString();
      await store.applyDelete(repo, tag, deletedAt);
      return toAll({ repo, tag, deletedAt }, (peer, signal) => peer.deleteTag(repo, tag, deletedAt, signal));
    },

    sweep,

    start() {
      if (closed || started || peers.length === 0) return;
      started = true;
      void sweep().finally(schedule);
    },

    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      controller.abort();
      await sweeping?.catch(() => {});
      await Promise.all(peers.map((peer) => peer.close()));
    },
  };
}
