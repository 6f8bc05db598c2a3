import { describe, expect, it } from 'vitest';
import { createPeerPolicy } from './peer-policy.js';
import type { PeerEntry } from './peer-store.js';

function peer(n: number, kind: 'leecher' | 'seeder' | 'origin' = 'leecher'): PeerEntry {
  return {
    peerId: n.toString(16).padStart(40, '0'),
    host: `10.0.0.${n}`,
    port: 16001,
    complete: kind !== 'leecher',
    origin: kind === 'origin',
  };
}

const requester = { peerId: 'f'.repeat(40), host: '10.9.9.9', port: 16001 };
const numbers = (peers: readonly PeerEntry[]) => peers.map((p) => Number(p.host.split('.')[3]));

/** A seeded linear congruential generator: deterministic, but not constant. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const swarm = [
  peer(1),
  peer(2, 'seeder'),
  peer(3),
  peer(4, 'origin'),
  peer(5),
  peer(6, 'seeder'),
  peer(7),
  peer(8),
];

describe('peer policy', () => {
  it('hands out completed peers and origins first by default', () => {
    const policy = createPeerPolicy({ random: seeded(1) });
    const picked = policy.select(swarm, { requester, limit: 5 });
    expect(picked).toHaveLength(5);
    expect(new Set(numbers(picked.slice(0, 3)))).toEqual(new Set([2, 4, 6]));
    for (const n of numbers(picked.slice(3))) expect([1, 3, 5, 7, 8]).toContain(n);
  });

  it('puts origins before completed peers with origins-first', () => {
    const policy = createPeerPolicy({ priority: 'origins-first', random: seeded(2) });
    const picked = numbers(policy.select(swarm, { requester, limit: 8 }));
    expect(picked[0]).toBe(4);
    expect(new Set(picked.slice(1, 3))).toEqual(new Set([2, 6]));
    expect(new Set(picked.slice(3))).toEqual(new Set([1, 3, 5, 7, 8]));
  });

  it('samples uniformly from one tier with random', () => {
    const policy = createPeerPolicy({ priority: 'random', random: () => 0.999 });
    // With random() near 1 the partial Fisher-Yates always picks the last slot, into
    // which each step swaps the previous front: 8, then 1, then 2, tiers ignored.
    expect(numbers(policy.select(swarm, { requester, limit: 3 }))).toEqual([8, 1, 2]);
  });

  it('draws its sample from the injected random source', () => {
    const seeders = Array.from({ length: 40 }, (_, i) => peer(i + 1, 'seeder'));
    const pick = (seed: number) =>
      numbers(createPeerPolicy({ random: seeded(seed) }).select(seeders, { requester, limit: 5 }));
    expect(pick(7)).toEqual(pick(7));
    expect(pick(7)).not.toEqual(pick(8));
    // Every seeder is handed out over enough draws: the sample is not biased to a prefix.
    const seen = new Set<number>();
    const policy = createPeerPolicy({ random: seeded(3) });
    for (let i = 0; i < 200; i++)
      for (const n of numbers(policy.select(seeders, { requester, limit: 5 }))) seen.add(n);
    expect(seen.size).toBe(40);
  });

  it('never hands the requester itself out, by id or by address', () => {
    const policy = createPeerPolicy({ random: seeded(4) });
    const self = { ...peer(9, 'seeder'), peerId: requester.peerId };
    const restarted = { ...peer(10, 'seeder'), host: requester.host, port: requester.port };
    const picked = policy.select([self, restarted, peer(1)], { requester, limit: 10 });
    expect(numbers(picked)).toEqual([1]);
  });

  it('returns everyone when the swarm is smaller than the limit, and nothing for limit 0', () => {
    const policy = createPeerPolicy({ random: seeded(5) });
    expect(policy.select(swarm, { requester, limit: 50 })).toHaveLength(8);
    expect(policy.select(swarm, { requester, limit: 0 })).toEqual([]);
    expect(policy.select([], { requester, limit: 5 })).toEqual([]);
  });
});
