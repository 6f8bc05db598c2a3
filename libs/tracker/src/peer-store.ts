/**
 * The tracker's memory of swarms: per blob (and cluster), the peers that announced
 * it recently. An entry lives for `ttlMs` after its last announce. Memory is bounded
 * twice: at most `maxPeersPerBlob` peers per swarm and `maxBlobs` swarms, the least
 * recently announced one giving way in both cases.
 *
 * Maps keep insertion order, and every announce re-inserts its peer and its swarm at
 * the end. With one TTL for all, expired entries are therefore always a prefix, so
 * expiry costs O(expired) and needs no timer: swarms whose last announce expired are
 * dropped on every announce, and a live swarm's expired peers when it is next read.
 */

export interface PeerEntry {
  /** 40 lowercase hex characters. */
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
  readonly complete: boolean;
  readonly origin: boolean;
}

/** Peers only meet peers announcing the same blob within the same cluster. */
export interface SwarmKey {
  readonly blob: string;
  readonly clusterId?: string | undefined;
}

export interface PeerStoreOptions {
  /** How long an entry lives after its last announce (ms). */
  readonly ttlMs: number;
  /** Monotonic milliseconds; defaults to performance.now(). */
  readonly clock?: () => number;
  /** Peers kept per swarm; past it the least recently announced is dropped (default 10,000). */
  readonly maxPeersPerBlob?: number;
  /** Swarms kept; past it the least recently announced swarm is dropped (default 100,000). */
  readonly maxBlobs?: number;
}

export interface PeerStoreStats {
  /** Swarms with at least one live peer. */
  readonly blobs: number;
  /** Live peer entries over all swarms. */
  readonly peers: number;
  /** Peers in the largest swarm. */
  readonly largestSwarm: number;
}

export interface PeerStore {
  /** Adds or refreshes a peer in a swarm. */
  announce(key: SwarmKey, peer: PeerEntry): void;
  /** The live peers of a swarm, least recently announced first. */
  peers(key: SwarmKey): PeerEntry[];
  /** Forgets a peer (it said it is leaving); false when it was not there. */
  remove(key: SwarmKey, peerId: string): boolean;
  /** Expires what is due, then counts; for metrics at scrape time. */
  stats(): PeerStoreStats;
}

interface StoredPeer {
  readonly entry: PeerEntry;
  readonly seenAt: number;
}

interface Swarm {
  readonly peers: Map<string, StoredPeer>;
  touchedAt: number;
}

export const DEFAULT_MAX_PEERS_PER_BLOB = 10_000;
export const DEFAULT_MAX_BLOBS = 100_000;

export function createPeerStore(options: PeerStoreOptions): PeerStore {
  const { ttlMs } = options;
  const clock = options.clock ?? (() => performance.now());
  const maxPeers = options.maxPeersPerBlob ?? DEFAULT_MAX_PEERS_PER_BLOB;
  const maxBlobs = options.maxBlobs ?? DEFAULT_MAX_BLOBS;
  for (const [name, value] of [
    ['ttlMs', ttlMs],
    ['maxPeersPerBlob', maxPeers],
    ['maxBlobs', maxBlobs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be positive, got ${value}`);
  }
  const swarms = new Map<string, Swarm>();
  let total = 0;

  const keyOf = (key: SwarmKey) => `${key.clusterId ?? ''}\n${key.blob}`;
  const expired = (seenAt: number, now: number) => now - seenAt >= ttlMs;

  const dropSwarm = (key: string, swarm: Swarm) => {
    total -= swarm.peers.size;
    swarms.delete(key);
  };

  /** Drops the swarm's expired prefix; returns false when nothing is left of it. */
  const prune = (key: string, swarm: Swarm, now: number): boolean => {
    for (const [peerId, stored] of swarm.peers) {
      if (!expired(stored.seenAt, now)) break;
      swarm.peers.delete(peerId);
      total -= 1;
    }
    if (swarm.peers.size > 0) return true;
    swarms.delete(key);
    return false;
  };

  const pruneStaleSwarms = (now: number) => {
    for (const [key, swarm] of swarms) {
      if (!expired(swarm.touchedAt, now)) break;
      dropSwarm(key, swarm);
    }
  };

  return {
    announce(key, peer) {
      const now = clock();
      pruneStaleSwarms(now);
      const id = keyOf(key);
      let swarm = swarms.get(id);
      if (swarm === undefined) {
        swarm = { peers: new Map(), touchedAt: now };
      } else {
        swarms.delete(id);
        prune(id, swarm, now);
      }
      swarm.touchedAt = now;
      swarms.set(id, swarm);
      if (swarm.peers.delete(peer.peerId)) total -= 1;
      swarm.peers.set(peer.peerId, { entry: { ...peer }, seenAt: now });
      total += 1;
      if (swarm.peers.size > maxPeers) {
        const oldest = swarm.peers.keys().next();
        if (oldest.done !== true) {
          swarm.peers.delete(oldest.value);
          total -= 1;
        }
      }
      if (swarms.size > maxBlobs) {
        const oldest = swarms.entries().next();
        if (oldest.done !== true) dropSwarm(...oldest.value);
      }
    },

    peers(key) {
      const id = keyOf(key);
      const swarm = swarms.get(id);
      if (swarm === undefined || !prune(id, swarm, clock())) return [];
      return Array.from(swarm.peers.values(), (stored) => stored.entry);
    },

    remove(key, peerId) {
      const id = keyOf(key);
      const swarm = swarms.get(id);
      if (swarm === undefined || !swarm.peers.delete(peerId)) return false;
      total -= 1;
      if (swarm.peers.size === 0) swarms.delete(id);
      return true;
    },

    stats() {
      const now = clock();
      let largest = 0;
      for (const [id, swarm] of swarms) {
        if (prune(id, swarm, now)) largest = Math.max(largest, swarm.peers.size);
      }
      return { blobs: swarms.size, peers: total, largestSwarm: largest };
    },
  };
}
