/**
 * The tracker's memory of swarms: per blob (and cluster), the peers that announced it
 * recently. An entry lives for `ttlMs` after its last announce. Memory is bounded twice: at
 * most `maxPeersPerBlob` peers per swarm and `maxBlobs` swarms, the least recently announced
 * one giving way in both cases.
 *
 * Every operation an announce makes is O(1), and a handout O(peers handed out), whatever the
 * size of the swarm:
 * - peers are interned (swarm/peer-table.ts) and members are columns of typed arrays
 *   (swarm/member-table.ts); with its swarm's indexes a member takes some 80 bytes;
 * - each swarm keeps its members grouped for the handout and in announce order
 *   (swarm/swarm.ts);
 * - an answer is the join of its peers' entries, each encoded once (swarm/peer-table.ts): no
 *   object per peer, and one string on the heap rather than a buffer per answer outside it;
 * - expiry needs no timer. With one TTL for all, expired members are always the oldest
 *   of their swarm, and stale swarms the oldest of the store: an announce drops the stale
 *   swarms and its own swarm's expired members, a read its swarm's; `stats()` (at each
 *   metrics scrape) sweeps every swarm. Each expired member is dropped once, in O(1).
 */
import { MAX_ANNOUNCE_PEERS, encodePeerCount } from '@kraken/p2p-core';
import type { PeerPolicy } from './peer-policy.js';
import { createMemberIndex } from './swarm/member-index.js';
import { COMPLETE, NONE, ORIGIN, createMemberTable, type MemberRef } from './swarm/member-table.js';
import { createPeerTable, type EntryFormat, type PeerRef } from './swarm/peer-table.js';
import { Swarm, flagsOf, peerOf, type PackedPeer } from './swarm/swarm.js';

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

export interface HandoutRequest {
  /** Never handed out: by id, nor by address (the same peer restarted under a new id). */
  readonly requester: Pick<PeerEntry, 'peerId' | 'host' | 'port'>;
  readonly limit: number;
  readonly policy: PeerPolicy;
}

export interface PeerStore {
  /** Adds or refreshes a peer in a swarm. */
  announce(key: SwarmKey, peer: PeerEntry): void;
  /** Up to `limit` live peers of the swarm, as the policy picks them. */
  handout(key: SwarmKey, request: HandoutRequest): PeerEntry[];
  /** The same handout as the JSON array an announce answer carries. */
  handoutJson(key: SwarmKey, request: HandoutRequest): string;
  /**
   * The same handout as the end of a binary announce answer (@kraken/p2p-core,
   * announce-binary.ts): the peer count and the peers' records, as a latin1 string.
   */
  handoutBinary(key: SwarmKey, request: HandoutRequest): string;
  /** True when an origin is among the swarm's live peers. */
  hasOrigin(key: SwarmKey): boolean;
  /** The live peers of a swarm, least recently announced first (O(swarm): for tests and tools). */
  peers(key: SwarmKey): PeerEntry[];
  /** Forgets a peer (it said it is leaving); false when it was not there. */
  remove(key: SwarmKey, peerId: string): boolean;
  /** Expires what is due, then counts; for metrics at scrape time. */
  stats(): PeerStoreStats;
}

/** A binary answer's peer count as latin1 text, by count: made once, not per answer. */
const COUNT_PREFIXES = Array.from({ length: MAX_ANNOUNCE_PEERS + 1 }, (_, n) =>
  encodePeerCount(n).toString('latin1'),
);
const countPrefix = (count: number) => COUNT_PREFIXES[count] ?? encodePeerCount(count).toString('latin1');

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
  const members = createMemberTable();
  const index = createMemberIndex(members);
  const peers = createPeerTable();
  const swarms = new Map<string, Swarm>();
  // Swarm numbers, reused once a swarm is forgotten (it has no member left in the index then).
  const freeIds: number[] = [];
  let nextId = 0;
  // The order of swarms by last announce: `oldest` is the next to go stale.
  let oldest: Swarm | undefined;
  let newest: Swarm | undefined;

  const keyOf = (key: SwarmKey) => (key.clusterId === undefined ? key.blob : `${key.clusterId}\n${key.blob}`);
  const expired = (seenAt: number, now: number) => now - seenAt >= ttlMs;

  const unlinkSwarm = (swarm: Swarm) => {
    if (swarm.older === undefined) oldest = swarm.newer;
    else swarm.older.newer = swarm.newer;
    if (swarm.newer === undefined) newest = swarm.older;
    else swarm.newer.older = swarm.older;
    swarm.older = undefined;
    swarm.newer = undefined;
  };

  const appendSwarm = (swarm: Swarm) => {
    swarm.older = newest;
    if (newest === undefined) oldest = swarm;
    else newest.newer = swarm;
    newest = swarm;
  };

  const createSwarm = (key: string, now: number): Swarm => {
    const swarm = new Swarm(key, freeIds.pop() ?? nextId++, members, now);
    swarms.set(key, swarm);
    appendSwarm(swarm);
    return swarm;
  };

  /** Forgets a swarm with no member left. */
  const forgetSwarm = (swarm: Swarm) => {
    unlinkSwarm(swarm);
    swarms.delete(swarm.key);
    freeIds.push(swarm.id);
  };

  const dropMember = (swarm: Swarm, member: MemberRef) => {
    swarm.delete(member);
    index.remove(member);
    peers.release(members.peer[member] as PeerRef);
    members.release(member);
  };

  const dropSwarm = (swarm: Swarm) => {
    while (swarm.oldest !== NONE) dropMember(swarm, swarm.oldest);
    forgetSwarm(swarm);
  };

  /** Drops the swarm's expired members; false when nothing is left of it (and it is gone). */
  const prune = (swarm: Swarm, now: number): boolean => {
    while (swarm.oldest !== NONE && expired(members.seenAt[swarm.oldest] as number, now)) {
      dropMember(swarm, swarm.oldest);
    }
    if (swarm.oldest !== NONE) return true;
    forgetSwarm(swarm);
    return false;
  };

  const dropStaleSwarms = (now: number) => {
    while (oldest !== undefined && expired(oldest.touchedAt, now)) dropSwarm(oldest);
  };

  /** The swarm with its expired members dropped, or undefined. */
  const live = (key: SwarmKey): Swarm | undefined => {
    const swarm = swarms.get(keyOf(key));
    return swarm !== undefined && prune(swarm, clock()) ? swarm : undefined;
  };

  /** Handout positions of the swarm, as the policy picks them. */
  const choose = (swarm: Swarm, { requester, limit, policy }: HandoutRequest): number[] => {
    // A requester that announced is known by its record; another record at its address is the
    // same peer restarted under a new id. Usually it is alone there.
    const self = peers.find(requester.peerId);
    const sameAddress =
      self === -1 ? peers.withAddress(requester.host, requester.port) : peers.sameAddress(self);
    const others =
      sameAddress === undefined || (sameAddress.length === 1 && sameAddress[0] === self)
        ? undefined
        : sameAddress;
    return policy.select(swarm, limit, (position) => {
      const peer = peerOf(swarm.at(position));
      return peer === self || (others !== undefined && others.includes(peer));
    });
  };

  /** The handout's entries in `format`, joined by `separator`. */
  const encodedHandout = (key: SwarmKey, request: HandoutRequest, format: EntryFormat, separator: string) => {
    const swarm = live(key);
    if (swarm === undefined) return { count: 0, text: '' };
    const chosen = choose(swarm, request);
    const entries = new Array<string>(chosen.length);
    for (let i = 0; i < chosen.length; i++) {
      const packed = swarm.at(chosen[i] as number);
      entries[i] = peers.entry(peerOf(packed), flagsOf(packed), format);
    }
    return { count: chosen.length, text: entries.join(separator) };
  };

  const entryOf = (packed: PackedPeer): PeerEntry => {
    const peer: PeerRef = peerOf(packed);
    const flags = flagsOf(packed);
    return {
      peerId: peers.peerId(peer),
      host: peers.host(peer),
      port: peers.port(peer),
      complete: (flags & COMPLETE) !== 0,
      origin: (flags & ORIGIN) !== 0,
    };
  };

  return {
    announce(key, entry) {
      const now = clock();
      dropStaleSwarms(now);
      const id = keyOf(key);
      let swarm = swarms.get(id);
      // prune() forgets a swarm it empties: this announce starts it afresh.
      if (swarm === undefined || !prune(swarm, now)) {
        swarm = createSwarm(id, now);
        if (swarms.size > maxBlobs && oldest !== undefined) dropSwarm(oldest);
      } else if (newest !== swarm) {
        unlinkSwarm(swarm);
        appendSwarm(swarm);
      }
      swarm.touchedAt = now;
      const flags = (entry.complete ? COMPLETE : 0) | (entry.origin ? ORIGIN : 0);
      const peer = peers.intern(entry.peerId, entry.host, entry.port);
      const existing = index.find(swarm.id, peer);
      if (existing !== NONE) {
        members.seenAt[existing] = now;
        swarm.refresh(existing, flags);
        return;
      }
      const member = members.allocate();
      members.seenAt[member] = now;
      members.peer[member] = peer;
      members.swarm[member] = swarm.id;
      index.insert(member);
      peers.retain(peer);
      swarm.add(member, flags);
      if (swarm.size > maxPeers) dropMember(swarm, swarm.oldest);
    },

    handout(key, request) {
      const swarm = live(key);
      if (swarm === undefined) return [];
      return choose(swarm, request).map((position) => entryOf(swarm.at(position)));
    },

    handoutJson(key, request) {
      return `[${encodedHandout(key, request, 'json', ',').text}]`;
    },

    handoutBinary(key, request) {
      const records = encodedHandout(key, request, 'binary', '');
      return countPrefix(records.count) + records.text;
    },

    hasOrigin(key) {
      const swarm = live(key);
      return swarm !== undefined && swarm.origins > 0;
    },

    peers(key) {
      const swarm = live(key);
      const entries: PeerEntry[] = [];
      if (swarm === undefined) return entries;
      for (let m = swarm.oldest; m !== NONE; m = members.newer[m] as number) {
        entries.push(entryOf(swarm.packedOf(m)));
      }
      return entries;
    },

    remove(key, peerId) {
      // A member past its TTL is gone already, pruned or not: removing it finds nothing.
      const swarm = live(key);
      const peer = peers.find(peerId);
      const member = swarm === undefined || peer === -1 ? NONE : index.find(swarm.id, peer);
      if (swarm === undefined || member === NONE) return false;
      dropMember(swarm, member);
      if (swarm.oldest === NONE) forgetSwarm(swarm);
      return true;
    },

    stats() {
      const now = clock();
      let largest = 0;
      // Deleting the entry being visited is safe in a Map iteration.
      for (const swarm of swarms.values()) {
        if (prune(swarm, now)) largest = Math.max(largest, swarm.size);
      }
      return { blobs: swarms.size, peers: members.live, largestSwarm: largest };
    },
  };
}
