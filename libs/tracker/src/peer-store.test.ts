import { describe, expect, it } from 'vitest';
import { createPeerStore, type PeerEntry } from './peer-store.js';

const blob = `sha256:${'a'.repeat(64)}`;
const other = `sha256:${'b'.repeat(64)}`;

function peer(n: number, overrides: Partial<PeerEntry> = {}): PeerEntry {
  return {
    peerId: n.toString(16).padStart(40, '0'),
    host: '10.0.0.1',
    port: 16000 + n,
    complete: false,
    origin: false,
    ...overrides,
  };
}

function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

const ids = (peers: readonly PeerEntry[]) => peers.map((p) => p.port - 16000);

describe('peer store', () => {
  it('expires an entry ttl after its last announce', () => {
    const clock = fakeClock();
    const store = createPeerStore({ ttlMs: 1000, clock: clock.now });
    store.announce({ blob }, peer(1));
    clock.advance(600);
    store.announce({ blob }, peer(2));
    clock.advance(399);
    expect(ids(store.peers({ blob }))).toEqual([1, 2]);
    clock.advance(1);
    expect(ids(store.peers({ blob }))).toEqual([2]);
    clock.advance(600);
    expect(store.peers({ blob })).toEqual([]);
    expect(store.stats()).toEqual({ blobs: 0, peers: 0, largestSwarm: 0 });
  });

  it('refreshes an entry (and its state) on every announce', () => {
    const clock = fakeClock();
    const store = createPeerStore({ ttlMs: 1000, clock: clock.now });
    store.announce({ blob }, peer(1));
    store.announce({ blob }, peer(2));
    clock.advance(900);
    store.announce({ blob }, peer(1, { complete: true }));
    clock.advance(200);
    expect(store.peers({ blob })).toEqual([peer(1, { complete: true })]);
    expect(store.stats()).toEqual({ blobs: 1, peers: 1, largestSwarm: 1 });
  });

  it('drops swarms whose every peer expired, without being read', () => {
    const clock = fakeClock();
    const store = createPeerStore({ ttlMs: 1000, clock: clock.now });
    store.announce({ blob }, peer(1));
    clock.advance(1000);
    store.announce({ blob: other }, peer(2));
    expect(store.stats()).toEqual({ blobs: 1, peers: 1, largestSwarm: 1 });
  });

  it('keeps at most maxPeersPerBlob, forgetting the least recently announced', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0, maxPeersPerBlob: 3 });
    for (const n of [1, 2, 3]) store.announce({ blob }, peer(n));
    store.announce({ blob }, peer(1));
    store.announce({ blob }, peer(4));
    expect(ids(store.peers({ blob }))).toEqual([3, 1, 4]);
    expect(store.stats()).toEqual({ blobs: 1, peers: 3, largestSwarm: 3 });
  });

  it('keeps at most maxBlobs swarms, forgetting the least recently announced', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0, maxBlobs: 2 });
    const blobs = ['1', '2', '3'].map((c) => `sha256:${c.repeat(64)}`);
    store.announce({ blob: blobs[0] as string }, peer(1));
    store.announce({ blob: blobs[1] as string }, peer(2));
    store.announce({ blob: blobs[0] as string }, peer(3));
    store.announce({ blob: blobs[2] as string }, peer(4));
    expect(ids(store.peers({ blob: blobs[0] as string }))).toEqual([1, 3]);
    expect(store.peers({ blob: blobs[1] as string })).toEqual([]);
    expect(ids(store.peers({ blob: blobs[2] as string }))).toEqual([4]);
    expect(store.stats()).toEqual({ blobs: 2, peers: 3, largestSwarm: 2 });
  });

  it('keeps clusters apart', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    store.announce({ blob, clusterId: 'east' }, peer(1));
    store.announce({ blob }, peer(2));
    expect(ids(store.peers({ blob, clusterId: 'east' }))).toEqual([1]);
    expect(ids(store.peers({ blob }))).toEqual([2]);
    expect(store.peers({ blob, clusterId: 'west' })).toEqual([]);
  });

  it('removes a peer that leaves', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    store.announce({ blob }, peer(1));
    expect(store.remove({ blob }, peer(1).peerId)).toBe(true);
    expect(store.remove({ blob }, peer(1).peerId)).toBe(false);
    expect(store.stats()).toEqual({ blobs: 0, peers: 0, largestSwarm: 0 });
  });

  it('stores a copy, not the caller object', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    const entry = { ...peer(1) };
    store.announce({ blob }, entry);
    entry.port = 1;
    expect(ids(store.peers({ blob }))).toEqual([1]);
  });

  it('refuses nonsensical bounds', () => {
    expect(() => createPeerStore({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => createPeerStore({ ttlMs: 1, maxBlobs: 0 })).toThrow(/maxBlobs/);
  });
});
