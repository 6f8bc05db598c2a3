/**
 * The scheduler's side of the tracker: announces per blob on jittered timers (the
 * first one at once), remembers the peers of the last answer and which of them are
 * origins, and dials up to `maxPeersPerBlob` of them for a download. Answers and dial
 * results for a blob that left the swarm meanwhile are dropped.
 */
import type { AnnounceRequest } from './announce-protocol.js';
import type { ConnManager } from './conn-manager.js';
import type { PeerBlacklist } from './peer-blacklist.js';
import type { PeerConn } from './peer-conn.js';
import { createAnnounceTimers } from './reannounce-timers.js';
import type {
  SchedulerAnnouncer,
  SchedulerLocalPeer,
  SchedulerLogger,
  SchedulerTimers,
} from './scheduler-options.js';
import type { BlobPeer, SwarmBlob } from './swarm-blob.js';

export interface SwarmTrackerOptions {
  /** Read at each announce: the port may be bound after creation. */
  readonly local: SchedulerLocalPeer;
  readonly announcer: SchedulerAnnouncer;
  readonly blobs: ReadonlyMap<string, SwarmBlob>;
  readonly manager: ConnManager;
  readonly blacklist: PeerBlacklist;
  readonly attach: (blob: SwarmBlob, conn: PeerConn) => BlobPeer | undefined;
  readonly isClosed: () => boolean;
  readonly intervalMs: number;
  readonly maxPeersPerBlob: number;
  readonly timers: SchedulerTimers;
  readonly random: () => number;
  readonly logger: SchedulerLogger;
}

export interface SwarmTracker {
  /** Announces `id` at once, e.g. for a new blob or one that just completed. */
  announceNow(id: string): void;
  cancel(id: string): void;
  /** Dials known peers until the blob has `maxPeersPerBlob` peers or dials. */
  connectMore(blob: SwarmBlob): void;
  /** True for peers some tracker answer named as origins. */
  isOrigin(peerId: string): boolean;
  close(): void;
}

export function createSwarmTracker(options: SwarmTrackerOptions): SwarmTracker {
  const originPeers = new Set<string>();
  const announceTimers = createAnnounceTimers({
    intervalMs: options.intervalMs,
    random: options.random,
    timers: options.timers,
    onDue: announce,
  });

  function announce(id: string): void {
    const blob = options.blobs.get(id);
    if (blob === undefined || options.isClosed()) return;
    const request: AnnounceRequest = {
      peerId: options.local.peerId,
      clusterId: options.local.clusterId,
      address: { host: options.local.host, port: options.local.port },
      blob: blob.metainfo.digest,
      complete: blob.state === 'seeding',
      origin: options.local.origin ?? false,
    };
    options.announcer.announce(request).then(
      (answer) => {
        if (options.blobs.get(id) !== blob) return;
        blob.known.clear();
        for (const peer of answer.peers) {
          if (peer.peerId === options.local.peerId) continue;
          blob.known.set(peer.peerId, peer);
          if (peer.origin) originPeers.add(peer.peerId);
        }
        const intervalMs = answer.intervalSeconds === undefined ? undefined : answer.intervalSeconds * 1000;
        announceTimers.schedule(id, intervalMs === undefined ? {} : { intervalMs });
        connectMore(blob);
      },
      (err: unknown) => {
        if (options.blobs.get(id) !== blob) return;
        options.logger.warn({ blob: blob.metainfo.digest, err }, 'announce failed; retrying');
        announceTimers.schedule(id);
      },
    );
  }

  function connectMore(blob: SwarmBlob): void {
    if (blob.state !== 'downloading' || options.isClosed()) return;
    for (const target of blob.known.values()) {
      if (blob.peers.size + blob.dialing.size >= options.maxPeersPerBlob) return;
      const { peerId } = target;
      if (blob.peers.has(peerId) || blob.dialing.has(peerId) || options.blacklist.isBlocked(blob.id, peerId))
        continue;
      const open = options.manager.get(peerId);
      if (open !== undefined) {
        options.attach(blob, open);
        continue;
      }
      blob.dialing.add(peerId);
      options.manager.dial({ host: target.host, port: target.port, peerId }).then(
        (conn) => {
          blob.dialing.delete(peerId);
          if (options.blobs.get(blob.id) === blob && blob.state === 'downloading') options.attach(blob, conn);
        },
        (err: unknown) => {
          blob.dialing.delete(peerId);
          options.logger.debug({ blob: blob.metainfo.digest, peerId, err }, 'dialing a peer failed');
        },
      );
    }
  }

  return {
    announceNow: (id) => announceTimers.schedule(id, { immediately: true }),
    cancel: (id) => announceTimers.cancel(id),
    connectMore,
    isOrigin: (peerId) => originPeers.has(peerId),
    close: () => announceTimers.close(),
  };
}
