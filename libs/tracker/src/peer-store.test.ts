import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPeerPolicy } from './peer-policy.js';
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

/** A seeded linear congruential generator: deterministic, but not constant. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

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

  it('finds nothing to remove once an entry is past its ttl, before anything pruned it', () => {
    const clock = fakeClock();
    const store = createPeerStore({ ttlMs: 1000, clock: clock.now });
    store.announce({ blob }, peer(1));
    store.announce({ blob }, peer(2));
    clock.advance(999);
    expect(store.remove({ blob }, peer(2).peerId)).toBe(true);
    clock.advance(1);
    expect(store.remove({ blob }, peer(1).peerId)).toBe(false);
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

describe('peer store handout', () => {
  const requester = { peerId: 'f'.repeat(40), host: '10.9.9.9', port: 16001 };
  const policy = createPeerPolicy({ random: seeded(1) });
  const seeder = (n: number) => peer(n, { complete: true });

  it('hands out completed peers and origins before downloading ones', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    for (const n of [1, 2, 3, 4, 5, 6]) store.announce({ blob }, peer(n));
    store.announce({ blob }, seeder(7));
    store.announce({ blob }, peer(8, { complete: true, origin: true }));
    const picked = ids(store.handout({ blob }, { requester, limit: 3, policy }));
    expect(new Set(picked.slice(0, 2))).toEqual(new Set([7, 8]));
    expect([1, 2, 3, 4, 5, 6]).toContain(picked[2]);
  });

  it('moves a peer that completes into the seeders, and back when it announces otherwise', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    for (const n of [1, 2, 3, 4]) store.announce({ blob }, peer(n));
    store.announce({ blob }, seeder(3));
    expect(ids(store.handout({ blob }, { requester, limit: 1, policy }))).toEqual([3]);
    expect(store.peers({ blob })).toContainEqual(seeder(3));
    store.announce({ blob }, peer(3));
    expect(store.hasOrigin({ blob })).toBe(false);
    store.announce({ blob }, peer(2, { complete: true, origin: true }));
    expect(store.hasOrigin({ blob })).toBe(true);
    expect(ids(store.handout({ blob }, { requester, limit: 1, policy }))).toEqual([2]);
  });

  it('never hands the requester out, by id or by the address of an earlier id', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    const self = { ...requester, complete: true, origin: false };
    const restarted = { ...seeder(9), host: requester.host, port: requester.port };
    store.announce({ blob }, self);
    store.announce({ blob }, restarted);
    store.announce({ blob }, peer(1));
    for (let i = 0; i < 20; i++)
      expect(ids(store.handout({ blob }, { requester, limit: 10, policy }))).toEqual([1]);
    // Not yet announced: still left out by address.
    const fresh = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    fresh.announce({ blob }, restarted);
    fresh.announce({ blob }, peer(1));
    expect(ids(fresh.handout({ blob }, { requester, limit: 10, policy }))).toEqual([1]);
  });

  it('answers JSON that is exactly the handout, as the protocol spells it', () => {
    const at = (seed: number) => {
      const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
      for (let n = 1; n <= 40; n++)
        store.announce({ blob }, peer(n, { complete: n % 3 === 0, origin: n === 7 }));
      store.announce({ blob }, { ...peer(41), host: 'fd00::1' });
      return { store, policy: createPeerPolicy({ random: seeded(seed) }) };
    };
    const a = at(5);
    const b = at(5);
    const json = a.store.handoutJson({ blob }, { requester, limit: 20, policy: a.policy });
    expect(JSON.parse(json)).toEqual(b.store.handout({ blob }, { requester, limit: 20, policy: b.policy }));
    expect(JSON.parse(json)).toHaveLength(20);
    expect(a.store.handoutJson({ blob: other }, { requester, limit: 20, policy })).toBe('[]');
  });

  it('gives a peer that moves its new address in every swarm', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    store.announce({ blob }, peer(1));
    store.announce({ blob: other }, peer(1));
    store.announce({ blob }, { ...peer(1), host: '10.7.7.7' });
    for (const b of [blob, other]) {
      expect(store.handout({ blob: b }, { requester, limit: 5, policy })).toEqual([
        { ...peer(1), host: '10.7.7.7' },
      ]);
      expect(JSON.parse(store.handoutJson({ blob: b }, { requester, limit: 5, policy }))[0].host).toBe(
        '10.7.7.7',
      );
    }
  });

  it('expires members in bulk with a fake clock and reuses their room', () => {
    const clock = fakeClock();
    const store = createPeerStore({ ttlMs: 1000, clock: clock.now });
    const blobs = Array.from({ length: 50 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
    for (let n = 1; n <= 200; n++) for (const b of blobs) store.announce({ blob: b }, peer(n));
    expect(store.stats()).toEqual({ blobs: 50, peers: 10_000, largestSwarm: 200 });
    clock.advance(500);
    for (let n = 1; n <= 100; n++) store.announce({ blob: blobs[0] as string }, peer(n, { complete: true }));
    clock.advance(500);
    // Only the refreshed half of the first swarm is left; every other swarm went stale at once.
    expect(store.stats()).toEqual({ blobs: 1, peers: 100, largestSwarm: 100 });
    expect(store.handout({ blob: blobs[1] as string }, { requester, limit: 5, policy })).toEqual([]);
    expect(
      new Set(ids(store.handout({ blob: blobs[0] as string }, { requester, limit: 100, policy }))),
    ).toEqual(new Set(Array.from({ length: 100 }, (_, i) => i + 1)));
    clock.advance(1000);
    expect(store.stats()).toEqual({ blobs: 0, peers: 0, largestSwarm: 0 });
    for (let n = 1; n <= 3; n++) store.announce({ blob }, peer(n));
    expect(ids(store.peers({ blob }))).toEqual([1, 2, 3]);
  });

  it('keeps a swarm whole as it grows to hundreds of members, shrinks to a few and grows again', () => {
    const store = createPeerStore({ ttlMs: 1000, clock: () => 0 });
    const all = (): number[] => ids(store.peers({ blob }));
    for (let n = 1; n <= 300; n++) store.announce({ blob }, peer(n, { complete: n % 5 === 0 }));
    expect(all()).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    // Leaving from both ends and the middle moves entries between and within the groups, and
    // gives the swarm's arrays back their room (a quarter full).
    for (let n = 1; n <= 300; n++)
      if (n % 30 !== 0) expect(store.remove({ blob }, peer(n).peerId)).toBe(true);
    expect(all()).toEqual([30, 60, 90, 120, 150, 180, 210, 240, 270, 300]);
    const handedOut = store.handout({ blob }, { requester, limit: 100, policy });
    expect(new Set(ids(handedOut))).toEqual(new Set([30, 60, 90, 120, 150, 180, 210, 240, 270, 300]));
    // Multiples of 30 are multiples of 5: all completed, so all in the seeders' group.
    expect(handedOut.every((p) => p.complete)).toBe(true);
    for (let n = 301; n <= 420; n++) store.announce({ blob }, peer(n));
    expect(all()).toHaveLength(130);
    expect(store.stats()).toEqual({ blobs: 1, peers: 130, largestSwarm: 130 });
    // The seeders still come first in a handout.
    expect(ids(store.handout({ blob }, { requester, limit: 10, policy })).sort((a, b) => a - b)).toEqual([
      30, 60, 90, 120, 150, 180, 210, 240, 270, 300,
    ]);
  });

  it('agrees with a plain model of swarms over any sequence of announces, removals and time', () => {
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('announce' as const),
          swarm: fc.integer({ min: 0, max: 3 }),
          peer: fc.integer({ min: 1, max: 12 }),
          complete: fc.boolean(),
          origin: fc.boolean(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('remove' as const),
          swarm: fc.integer({ min: 0, max: 3 }),
          peer: fc.integer({ min: 1, max: 12 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 600 }) }),
      },
    );
    const blobOf = (swarm: number) => `sha256:${String(swarm).repeat(64)}`;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        const clock = fakeClock();
        const maxPeersPerBlob = 6;
        const maxBlobs = 3;
        const store = createPeerStore({ ttlMs: 1000, clock: clock.now, maxPeersPerBlob, maxBlobs });
        // The model: per swarm, entries in announce order; swarms in announce order.
        let model = new Map<number, { entry: PeerEntry; at: number }[]>();
        const expire = () => {
          const now = clock.now();
          const next = new Map<number, { entry: PeerEntry; at: number }[]>();
          for (const [swarm, entries] of model) {
            const live = entries.filter((e) => now - e.at < 1000);
            if (live.length > 0) next.set(swarm, live);
          }
          model = next;
        };
        for (const o of ops) {
          if (o.kind === 'wait') {
            clock.advance(o.ms);
            continue;
          }
          expire();
          if (o.kind === 'remove') {
            const entries = model.get(o.swarm) ?? [];
            const had = entries.some((e) => e.entry.port === 16000 + o.peer);
            expect(store.remove({ blob: blobOf(o.swarm) }, peer(o.peer).peerId)).toBe(had);
            const left = entries.filter((e) => e.entry.port !== 16000 + o.peer);
            // A removal leaves the swarm's place in the order of swarms as it was.
            if (left.length > 0) model.set(o.swarm, left);
            else model.delete(o.swarm);
            continue;
          }
          const entry = peer(o.peer, { complete: o.complete, origin: o.origin });
          store.announce({ blob: blobOf(o.swarm) }, entry);
          const entries = (model.get(o.swarm) ?? []).filter((e) => e.entry.port !== entry.port);
          entries.push({ entry, at: clock.now() });
          if (entries.length > maxPeersPerBlob) entries.shift();
          model.delete(o.swarm);
          model.set(o.swarm, entries);
          if (model.size > maxBlobs) model.delete(model.keys().next().value as number);
        }
        expire();
        for (let swarm = 0; swarm < 4; swarm++) {
          const expected = (model.get(swarm) ?? []).map((e) => e.entry);
          expect(store.peers({ blob: blobOf(swarm) })).toEqual(expected);
          const handedOut = store.handout({ blob: blobOf(swarm) }, { requester, limit: 100, policy });
          expect(new Set(handedOut.map((p) => p.peerId))).toEqual(new Set(expected.map((p) => p.peerId)));
          // Tiers: every completed peer or origin before any downloading one.
          const firstDownloading = handedOut.findIndex((p) => !p.complete && !p.origin);
          if (firstDownloading !== -1)
            expect(handedOut.slice(firstDownloading).every((p) => !p.complete && !p.origin)).toBe(true);
          expect(store.hasOrigin({ blob: blobOf(swarm) })).toBe(expected.some((p) => p.origin));
        }
        const sizes = [...model.values()].map((entries) => entries.length);
        expect(store.stats()).toEqual({
          blobs: model.size,
          peers: sizes.reduce((a, b) => a + b, 0),
          largestSwarm: Math.max(0, ...sizes),
        });
      }),
      { numRuns: 300 },
    );
  });
});
