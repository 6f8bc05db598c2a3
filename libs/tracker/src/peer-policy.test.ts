import { describe, expect, it } from 'vitest';
import { createPeerPolicy, type PeerGroups } from './peer-policy.js';

/** A seeded linear congruential generator: deterministic, but not constant. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Positions 0 (origin), 1-2 (completed), 3-7 (downloading). */
const swarm: PeerGroups = { origins: 1, completed: 2, size: 8 };
const none = () => false;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('peer policy', () => {
  it('hands out completed peers and origins first by default', () => {
    const picked = createPeerPolicy({ random: seeded(1) }).select(swarm, 5, none);
    expect(picked).toHaveLength(5);
    expect(new Set(picked.slice(0, 3))).toEqual(new Set([0, 1, 2]));
    for (const p of picked.slice(3)) expect(range(3, 8)).toContain(p);
  });

  it('puts origins before completed peers with origins-first', () => {
    const picked = createPeerPolicy({ priority: 'origins-first', random: seeded(2) }).select(swarm, 8, none);
    expect(picked[0]).toBe(0);
    expect(new Set(picked.slice(1, 3))).toEqual(new Set([1, 2]));
    expect(new Set(picked.slice(3))).toEqual(new Set(range(3, 8)));
  });

  it('samples across every group with random', () => {
    const policy = createPeerPolicy({ priority: 'random', random: seeded(3) });
    const firsts = new Set<number>();
    for (let i = 0; i < 200; i++) firsts.add(policy.select(swarm, 1, none)[0] as number);
    // Downloading peers come first as often as their share says, not after the seeders.
    expect(firsts).toEqual(new Set(range(0, 8)));
  });

  it('draws its sample from the injected random source', () => {
    const seeders: PeerGroups = { origins: 0, completed: 40, size: 40 };
    const pick = (seed: number) => createPeerPolicy({ random: seeded(seed) }).select(seeders, 5, none);
    expect(pick(7)).toEqual(pick(7));
    expect(pick(7)).not.toEqual(pick(8));
  });

  it.each([
    ['a small swarm (partial shuffle)', 40, 5],
    ['a large swarm (distinct draws)', 4_000, 50],
  ])('hands every member of %s out, with no duplicates in one answer', (_what, size, limit) => {
    const policy = createPeerPolicy({ random: seeded(4) });
    const groups: PeerGroups = { origins: 0, completed: size, size };
    const counts = new Array<number>(size).fill(0);
    const rounds = (size / limit) * 50;
    for (let i = 0; i < rounds; i++) {
      const picked = policy.select(groups, limit, none);
      expect(new Set(picked).size).toBe(limit);
      for (const p of picked) counts[p] = (counts[p] ?? 0) + 1;
    }
    // Each member is expected 50 times; a uniform sample keeps every count well inside 20-90.
    expect(Math.min(...counts)).toBeGreaterThan(20);
    expect(Math.max(...counts)).toBeLessThan(90);
  });

  it('never hands out a skipped position (the requester), in either way of sampling', () => {
    const policy = createPeerPolicy({ random: seeded(5) });
    const small = policy.select(swarm, 10, (p) => p === 1 || p === 4);
    expect(new Set(small)).toEqual(new Set([0, 2, 3, 5, 6, 7]));
    const large: PeerGroups = { origins: 0, completed: 10_000, size: 10_000 };
    for (let i = 0; i < 100; i++) expect(policy.select(large, 50, (p) => p % 1000 === 0)).not.toContain(0);
  });

  it('finds the few members left when almost every position is skipped', () => {
    const policy = createPeerPolicy({ random: seeded(6) });
    const groups: PeerGroups = { origins: 0, completed: 1_000, size: 1_000 };
    expect(new Set(policy.select(groups, 5, (p) => p !== 10 && p !== 900))).toEqual(new Set([10, 900]));
  });

  it('looks at O(limit) members, not the whole swarm', () => {
    const policy = createPeerPolicy({ random: seeded(7) });
    const groups: PeerGroups = { origins: 3, completed: 5_000, size: 100_000 };
    let looked = 0;
    const picked = policy.select(groups, 50, () => {
      looked += 1;
      return false;
    });
    expect(picked).toHaveLength(50);
    expect(looked).toBeLessThan(60);
  });

  it('returns everyone when the swarm is smaller than the limit, and nothing for limit 0', () => {
    const policy = createPeerPolicy({ random: seeded(8) });
    expect(policy.select(swarm, 50, none)).toHaveLength(8);
    expect(policy.select(swarm, 0, none)).toEqual([]);
    expect(policy.select({ origins: 0, completed: 0, size: 0 }, 5, none)).toEqual([]);
  });
});
