/**
 * The scheduler's periodic sweep: requests that timed out are cancelled and their
 * peers blacklisted for the blob as stalled (the picker hands the pieces to others),
 * peers that trade nothing are dropped to free their slots, connections that carry no
 * blob are closed, and more peers are dialed for downloads that lack them.
 */
import type { PeerBlacklist } from './policy/peer-blacklist.js';
import type { PeerConn } from '../conn/peer-conn.js';
import type { SchedulerLogger } from './scheduler-deps.js';
import type { SchedulerLimits } from './scheduler-limits.js';
import type { SwarmBlob } from './swarm-blob.js';

export interface SwarmSweepOptions {
  readonly blobs: ReadonlyMap<string, SwarmBlob>;
  /** Open connections that carry no blob, since when; shared with the scheduler. */
  readonly idleSince: Map<PeerConn, number>;
  readonly blacklist: PeerBlacklist;
  readonly detach: (blob: SwarmBlob, peerId: string) => void;
  readonly fillAll: (blob: SwarmBlob) => void;
  readonly connectMore: (blob: SwarmBlob) => void;
  readonly limits: SchedulerLimits;
  readonly now: () => number;
  readonly logger: SchedulerLogger;
}

export function createSwarmSweep(options: SwarmSweepOptions): () => void {
  function sweep(): void {
    const now = options.now();
    for (const blob of [...options.blobs.values()]) {
      dropIdlePeers(blob, now);
      const picker = blob.picker;
      if (blob.state !== 'downloading' || picker === undefined) continue;
      const stalled = new Set<string>();
      for (const expired of picker.expire()) {
        const peer = blob.peers.get(expired.peerId);
        peer?.conn.send({ type: 'cancel', blobId: blob.id, index: expired.index });
        // A peer that still delivers has a long queue: its late requests move elsewhere,
        // but it is not dropped.
        if (peer !== undefined && now - peer.lastPieceAt >= options.limits.requestTimeoutMs)
          stalled.add(expired.peerId);
      }
      for (const peerId of stalled) {
        options.blacklist.add(blob.id, peerId, 'stalled');
        options.logger.info(
          { blob: blob.metainfo.digest, peerId },
          'peer stalled on requests; moved them elsewhere',
        );
        options.detach(blob, peerId);
      }
      options.fillAll(blob);
      options.connectMore(blob);
    }
    for (const [conn, since] of [...options.idleSince]) {
      if (now - since >= options.limits.idleConnectionMs) {
        options.idleSince.delete(conn);
        conn.close();
      }
    }
    options.blacklist.prune();
  }

  /** Frees the slots of peers that trade nothing, so that dials can find better ones. */
  function dropIdlePeers(blob: SwarmBlob, now: number): void {
    const idleMs = blob.state === 'downloading' ? options.limits.idleLeecherMs : options.limits.idleSeederMs;
    for (const peer of [...blob.peers.values()]) {
      const busy =
        peer.reading || peer.uploads.length > 0 || (blob.picker?.outstanding(peer.peerId) ?? 0) > 0;
      if (busy || now - peer.lastActive < idleMs) continue;
      options.logger.debug(
        { blob: blob.metainfo.digest, peerId: peer.peerId },
        'dropping an idle peer of the blob',
      );
      options.detach(blob, peer.peerId);
    }
  }

  return sweep;
}
