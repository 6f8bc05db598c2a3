/**
 * The scheduler's announcer, the swarm side of the tracker: announces each blob through
 * the injected tracker client on timers that put all blobs on one tick per interval
 * (scheduler/policy/announce-timers.ts; the first one at once), for the announce batcher
 * to send together, remembers the peers of the last answer and which of them are origins,
 * and dials up to `maxPeersPerBlob` of them for a download. Answers and dial results for
 * a blob that left the swarm meanwhile are dropped.
 *
 * A peer whose dial failed is not dialed again before a backoff (1 s, doubling up to
 * 16 s). A tracker names a peer until its entry expires, and a host whose agent restarted
 * answers with a new peer id: without the backoff, every connection event re-dialed such
 * stale entries, hundreds of times a minute.
 */
import type { Clock } from '@kraken/foundation';
import type { AnnounceRequest } from '../announce/announce-protocol.js';
import type { ConnManager } from '../conn/conn-manager.js';
import type { PeerBlacklist } from './policy/peer-blacklist.js';
import type { PeerConn } from '../conn/peer-conn.js';
import { createAnnounceTimers } from './policy/announce-timers.js';
import type { SchedulerAnnouncer, SchedulerLocalPeer, SchedulerLogger } from './scheduler-deps.js';
import type { BlobPeer, SwarmBlob } from './swarm-blob.js';

export interface SwarmAnnouncerOptions {
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
  readonly timers: Clock;
  readonly random: () => number;
  readonly logger: SchedulerLogger;
}

export interface SwarmAnnouncer {
  /** Announces `id` at once, e.g. for a new blob or one that just completed. */
  announceNow(id: string): void;
  cancel(id: string): void;
  /** Dials known peers until the blob has `maxPeersPerBlob` peers or dials. */
  connectMore(blob: SwarmBlob): void;
  /** True for peers some tracker answer named as origins. */
  isOrigin(peerId: string): boolean;
  close(): void;
}

/** First and longest wait before dialing a peer again after a failed dial. */
export const DIAL_BACKOFF_MIN_MS = 1_000;
export const DIAL_BACKOFF_MAX_MS = 16_000;
/** Failed peers remembered at most; the oldest failure is forgotten first. */
const MAX_BACKOFF_ENTRIES = 4_096;

export function createSwarmAnnouncer(options: SwarmAnnouncerOptions): SwarmAnnouncer {
  const originPeers = new Set<string>();
  /** Peers whose last dial failed: not dialed again before `until`. */
  const backoff = new Map<string, { until: number; delayMs: number }>();
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
      if ((backoff.get(peerId)?.until ?? 0) > options.timers.now()) continue;
      const open = options.manager.get(peerId);
      if (open !== undefined) {
        options.attach(blob, open);
        continue;
      }
      blob.dialing.add(peerId);
      options.manager.dial({ host: target.host, port: target.port, peerId }).then(
        (conn) => {
          blob.dialing.delete(peerId);
          backoff.delete(peerId);
          if (options.blobs.get(blob.id) === blob && blob.state === 'downloading') options.attach(blob, conn);
        },
        (err: unknown) => {
          blob.dialing.delete(peerId);
          backOff(peerId);
          options.logger.debug({ blob: blob.metainfo.digest, peerId, err }, 'dialing a peer failed');
        },
      );
    }
  }

  function backOff(peerId: string): void {
    const now = options.timers.now();
    const previous = backoff.get(peerId)?.delayMs ?? 0;
    const delayMs = Math.min(DIAL_BACKOFF_MAX_MS, Math.max(DIAL_BACKOFF_MIN_MS, previous * 2));
    backoff.delete(peerId);
    backoff.set(peerId, { until: now + delayMs, delayMs });
    // Insertion order: the first key is the oldest failure.
    const oldest = backoff.keys().next().value;
    if (backoff.size > MAX_BACKOFF_ENTRIES && oldest !== undefined) backoff.delete(oldest);
  }

  return {
    announceNow: (id) => announceTimers.schedule(id, { immediately: true }),
    cancel: (id) => announceTimers.cancel(id),
    connectMore,
    isOrigin: (peerId) => originPeers.has(peerId),
    close: () => announceTimers.close(),
  };
}
