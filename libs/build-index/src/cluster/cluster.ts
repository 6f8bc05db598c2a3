/**
 * A build-index node's membership in its cluster: every node holds every tag.
 *
 * - Write path: the node that accepts a tag write (after its content check) stores it,
 *   then pushes it synchronously to every peer and answers once each peer acked or
 *   failed (bounded by the replication timeout). A pusher that reads through any
 *   reachable node therefore sees its own write, and losing one node loses no tag.
 * - Deletes leave a tombstone with its version on the accepting node and are pushed the
 *   same way; a tombstone beats every value whose version is not newer.
 * - Repair: a peer that missed writes (down, partitioned, timed out) catches up by an
 *   anti-entropy sweep: every node periodically pulls each peer's tag values and
 *   tombstones and keeps the newer of each pair (by version, then digest). A node
 *   sweeps at start, so a restarted node is current within one pass.
 * - Versions come from each node's hybrid logical clock (version/hlc.ts), so a write
 *   that has seen another wins over it even when the nodes' clocks disagree.
 *
 * Why not a quorum or a consensus log: tags are single values with last-writer-wins
 * semantics already (replication between clusters works the same way), writes are
 * rare next to reads, and clusters are small (2-5 nodes). Pushing to all and repairing
 * by pull keeps every node able to accept writes and serve reads alone, which is what
 * "losing a node blocks no pull" needs; the price is that concurrent writes of one tag
 * through different nodes resolve by version (roughly wall-clock time), and that
 * tombstones are kept (they are tiny, and deletes are rare).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Logger, Metrics, ClientTlsContext } from '@kraken/service-kit';
import type { StorageBackend } from '@kraken/storage-backends';
import type { ManifestRecord } from '../contracts.js';
import type { StoredTag } from '../store/tag-store.js';
import { systemClock, type Timers } from '@kraken/foundation';
import { isDeletedBy, isNewerTag, tombstoneVersion, versionOf } from './replica-protocol.js';
import { createBuildIndexReplicaClient, type BuildIndexReplicaClient } from './replica-client.js';
import { createReplicaRoutes } from './replica-routes.js';
import {
  createVersionedTagStore,
  type VersionedTagStore,
  type VersionedTombstone,
} from '../store/versioned-tag-store.js';
import { createHybridClock } from '../version/hlc.js';
import { compareVersions } from '../version/tag-version.js';

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
  /** Wall clock of versions and of `updatedAt`/`deletedAt`; tests run a node ahead or behind. */
  readonly now?: () => Date;
  /** This cluster's id, in the versions of its writes (default "default"). */
  readonly clusterId?: string;
  /** This node's id within the cluster, in the versions of its writes (default ""). */
  readonly nodeId?: string;
  /**
   * The node's tag store; the API routes must write through the same one, so that
   * local and replicated changes of a tag are serialised and versioned together.
   * Default: one over `backend` with a clock from `now`, `clusterId` and `nodeId`.
   */
  readonly tags?: VersionedTagStore;
  /** TLS to the peers: the client files (`createClientTls`). */
  readonly tls?: ClientTlsContext | undefined;
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
  /** The node's versioned tag store (shared with the API routes and cross-cluster replication). */
  readonly tags: VersionedTagStore;
  /** Pushes a tag write this node accepted to every peer. */
  replicateTag(
    repo: string,
    tag: string,
    value: StoredTag,
    record?: ManifestRecord,
  ): Promise<ReplicationOutcome>;
  /**
   * Pushes a tag delete to every peer: `tombstone` is the one the node already wrote;
   * without it the node writes a new one first.
   */
  replicateDelete(repo: string, tag: string, tombstone?: VersionedTombstone): Promise<ReplicationOutcome>;
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
  const store =
    options.tags ??
    createVersionedTagStore({
      backend: options.backend,
      now,
      clock: createHybridClock({
        clusterId: options.clusterId ?? 'default',
        nodeId: options.nodeId ?? '',
        wallClock: () => now().getTime(),
      }),
    });
  const build =
    options.clientFor ??
    ((url: string) =>
      createBuildIndexReplicaClient({
        url,
        timeoutMs: options.replicationTimeoutMs,
        tls: options.tls,
      }));
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
        const localDeleted = new Map(listing?.deleted.map((entry) => [entry.tag, entry]));
        for (const { tag, ...value } of remote.tags) {
          if (!isNewerTag(value, local.get(tag))) continue;
          const tombstone = localDeleted.get(tag);
          if (tombstone !== undefined && isDeletedBy(value, tombstone)) continue;
          const record = await peer.getManifest(repo, value.digest, signal);
          if ((await store.apply(repo, tag, value, record)).applied) {
            repaired++;
            repairs.inc();
            log.info({ repo, tag, digest: value.digest, peer: peer.url }, 'tag repaired from a peer');
          }
        }
        for (const { tag, ...tombstone } of remote.deleted) {
          const known = localDeleted.get(tag);
          const version = tombstoneVersion(tombstone);
          if (known !== undefined && compareVersions(known.version, version) >= 0) continue;
          if ((await store.applyDelete(repo, tag, tombstone)).applied) {
            repaired++;
            repairs.inc();
            log.info({ repo, tag, version, peer: peer.url }, 'tag deletion repaired from a peer');
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
    tags: store,

    replicateTag(repo, tag, value, record) {
      const put = {
        digest: value.digest,
        updatedAt: value.updatedAt,
        version: versionOf(value),
        ...(record ? { record } : {}),
      };
      return toAll({ repo, tag, digest: value.digest, version: put.version }, (peer, signal) =>
        peer.putTag(repo, tag, put, signal),
      );
    },

    async replicateDelete(repo, tag, written) {
      let tombstone = written;
      if (tombstone === undefined) {
        const seen = [(await store.get(repo, tag))?.version, (await store.getTombstone(repo, tag))?.version];
        const latest = seen
          .filter((v): v is string => v !== undefined)
          .sort(compareVersions)
          .at(-1);
        tombstone = { deletedAt: now().toISOString(), version: store.clock.next(latest) };
        await store.applyDelete(repo, tag, tombstone);
      }
      const sent = tombstone;
      return toAll({ repo, tag, version: sent.version }, (peer, signal) =>
        peer.deleteTag(repo, tag, sent, signal),
      );
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
