import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyHasher, nodeSeed } from './key-hash.js';

// Reference implementation with BigInt: FNV-1a 64 over UTF-16 code units, then fmix64.
const MASK = (1n << 64n) - 1n;
function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK;
  k ^= k >> 33n;
  return k;
}
function reference(input: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < input.length; i++) {
    h ^= BigInt(input.charCodeAt(i));
    h = (h * 0x100000001b3n) & MASK;
  }
  return fmix64(h);
}
const join = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);

describe('key hash', () => {
  it('matches a 64-bit BigInt reference for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (input) => {
        const seed = nodeSeed(input);
        expect(join(seed.hi, seed.lo)).toBe(reference(input));
      }),
      { numRuns: 200 },
    );
  });

  it('scores fmix64(key ^ seed) mapped strictly inside (0, 1)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (key, node) => {
        const hasher = createKeyHasher();
        const seed = nodeSeed(node);
        hasher.hashKey(key);
        const u = hasher.unitScore(seed.hi, seed.lo);
        const mixed = fmix64(reference(key) ^ join(seed.hi, seed.lo));
        expect(u).toBeGreaterThan(0);
        expect(u).toBeLessThan(1);
        expect(u).toBe((Number(mixed >> 12n) + 0.5) / 2 ** 52);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the extremes of the 64-bit range inside (0, 1)', () => {
    const hasher = createKeyHasher();
    hasher.hashKey('k');
    const seed = nodeSeed('k');
    // XOR with its own hash gives fmix64(0) = 0, the lowest possible value.
    expect(hasher.unitScore(seed.hi, seed.lo)).toBe(0.5 / 2 ** 52);
    // The largest 52-bit value still maps below 1.
    expect((2 ** 52 - 1 + 0.5) / 2 ** 52).toBeLessThan(1);
    expect((2 ** 53 - 1 + 0.5) / 2 ** 53).toBe(1);
  });
});
