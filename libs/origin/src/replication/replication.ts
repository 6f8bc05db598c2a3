/**
 * Replication among the origins: each blob belongs on its `replicas` owners of the
 * ring. Two paths keep it there:
 *
 * - On write: the origin that accepted an upload stores it, then copies it to every
 *   other owner it believes healthy, in parallel, before it answers. It answers once
 *   `writeQuorum` copies exist; if owners failed, healthy nodes further down the
 *   digest's order stand in until the quorum is met. Waiting for every reachable
 *   owner (not just a quorum) means that after an acknowledged push each owner that
 *   was up holds the blob, so the pusher reads its own write from any of them. An
 *   owner that was down is not waited for: its copy comes from the sweep.
 * - The sweep (replication/replication-sweep.ts): every local blob is checked against its
 *   current owners and missing copies are pushed. It runs shortly after start, after
 *   a membership change or an owner's recovery, after a failed copy, and on an interval.
 *
 * The durability of the "rest" is the local copy itself: the accepting origin (and
 * every stand-in) keeps it, and its sweep keeps retrying until all owners have it.
 */
import type { Timers } from '@kraken/foundation';
import type { RingNode } from '@kraken/hashring';
import type { Digest } from '@kraken/oci-content';
import type { Logger, Metrics } from '@kraken/service-kit';
import type { ContentStore } from '@kraken/storage-backends';
import type { OriginClient } from '../client/client-types.js';
import { ReplicationQuorumError } from '../errors.js';
import type { OriginReplicationConfig } from './replication-config.js';
import { copyReplica } from './replica-copy.js';
import type { ReplicationRing } from './replication-ring.js';
import { createReplicationSweep, type ReplicationSweepReport } from './replication-sweep.js';
import type { StoredBlobEvent } from '../api/routes.js';

export interface OriginReplicationOptions {
  readonly ring: ReplicationRing;
  /** This origin's node id on the ring (`host:port`). */
  readonly self: string;
  readonly store: Pick<ContentStore, 'list' | 'stat' | 'read'>;
  /** The client of another origin. */
  readonly clientOf: (node: RingNode) => Pick<OriginClient, 'statBlob' | 'putBlob'>;
  readonly config: OriginReplicationConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly timers: Timers;
  /** Milliseconds (default Date.now). */
  readonly now?: () => number;
}

export interface OriginReplication {
  /** The origin routes' `onStored`: copies a new upload to the other owners. */
  onStored(event: StoredBlobEvent): Promise<void>;
  /** Runs a sweep now (or joins the running one). */
  sweep(): Promise<ReplicationSweepReport>;
  /** Schedules the first sweep and follows the ring's changes. */
  start(): void;
  close(): Promise<void>;
}

export function createOriginReplication(options: OriginReplicationOptions): OriginReplication {
  const { ring, self, store, config, timers } = options;
  const log = options.logger.child({ component: 'origin-replication' });
  const copies = options.metrics.counter(
    'replica_copies_total',
    'Blob copies pushed to other origins, by trigger (write, sweep) and result.',
    ['trigger', 'result'] as const,
  );
  const open = (digest: Digest) => () => store.read(digest);

  const sweep = createReplicationSweep({
    ring,
    self,
    store,
    concurrency: config.concurrency,
    copy: async (node, digest, size) => {
      try {
        const result = await copyReplica({
          target: options.clientOf(node),
          digest,
          size,
          open: open(digest),
        });
        if (result === 'copied') copies.inc({ trigger: 'sweep', result: 'ok' });
        ring.reportSuccess(node.id);
        return result;
      } catch (error) {
        copies.inc({ trigger: 'sweep', result: 'failed' });
        ring.reportFailure(node.id, error);
        throw error;
      }
    },
    logger: log,
    metrics: options.metrics,
    timers,
    intervalMs: config.sweepIntervalSeconds * 1000,
    changeDelayMs: config.changeDelayMs,
    retryDelayMs: config.retryDelayMs,
    ...(options.now === undefined ? {} : { now: options.now }),
  });

  async function copyTo(node: RingNode, event: StoredBlobEvent): Promise<boolean> {
    const { digest, size, namespace } = event;
    try {
      const result = await copyReplica({
        target: options.clientOf(node),
        digest,
        size,
        open: open(digest),
        namespace,
      });
      if (result === 'copied') copies.inc({ trigger: 'write', result: 'ok' });
      ring.reportSuccess(node.id);
      return true;
    } catch (error) {
      copies.inc({ trigger: 'write', result: 'failed' });
      ring.reportFailure(node.id, error);
      log.warn({ err: error, digest: digest.value, node: node.id }, 'copy to owner failed');
      return false;
    }
  }

  async function onStored(event: StoredBlobEvent): Promise<void> {
    // A replica is the other end of this very process: copying it on would loop.
    if (event.replica) return;
    const { digest } = event;
    const owners = ring.owners(digest.value);
    const quorum = Math.min(config.writeQuorum, ring.replicas, Math.max(1, ring.members().length));
    const targets = owners.filter((node) => node.id !== self);
    const reachable = targets.filter((node) => ring.isHealthy(node.id));
    const results = await Promise.all(reachable.map((node) => copyTo(node, event)));
    let stored = 1 + results.filter(Boolean).length;
    if (stored < owners.length || reachable.length < targets.length) sweep.schedule('retry');
    if (stored >= quorum) return;
    // Too few owners took it: healthy nodes further down the order stand in.
    const tried = new Set([self, ...owners.map((node) => node.id)]);
    for (const node of ring.ranked(digest.value)) {
      if (stored >= quorum) break;
      if (tried.has(node.id) || !ring.isHealthy(node.id)) continue;
      if (await copyTo(node, event)) stored++;
    }
    if (stored < quorum) throw new ReplicationQuorumError(digest.value, stored, quorum);
  }

  let unwatch: (() => void)[] = [];
  return {
    onStored,
    sweep: () => sweep.runNow(),
    start() {
      if (unwatch.length > 0) return;
      const members = ring.members();
      // Not finding itself, the origin would count copies it sends to itself.
      if (members.length > 0 && !members.some((node) => node.id === self)) {
        log.warn(
          { self, members: members.map((node) => node.id) },
          'this origin is not a member of its ring',
        );
      }
      unwatch = [
        ring.watchMembers(() => sweep.schedule('change')),
        ring.watchHealth((change) => {
          // A recovered node may have missed writes while it was down.
          if (change.healthy) sweep.schedule('change');
        }),
      ];
      sweep.schedule('change');
    },
    async close() {
      for (const stop of unwatch) stop();
      unwatch = [];
      await sweep.close();
    },
  };
}
