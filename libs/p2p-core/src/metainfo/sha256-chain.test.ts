import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { SHA256_INITIAL_CHAIN, loadSha256Chain, resumeSha256 } from './sha256-chain.js';

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('resumeSha256', () => {
  beforeAll(() => loadSha256Chain());

  it('refuses to run before its binding is loaded, and loads once', async () => {
    vi.resetModules();
    const fresh = await import('./sha256-chain.js');
    expect(() => fresh.resumeSha256(SHA256_INITIAL_CHAIN, 0)).toThrow('await loadSha256Chain() first');
    const loading = fresh.loadSha256Chain();
    expect(fresh.loadSha256Chain()).toBe(loading);
    await loading;
    expect(fresh.resumeSha256(SHA256_INITIAL_CHAIN, 0).digest()).toBe(sha(Buffer.alloc(0)));
  });

  it('gives node sha256 when a run stops at any block boundary and another goes on', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), fc.nat(), fc.nat(), (data, a, b) => {
        const cut = (a % (Math.floor(data.length / 64) + 1)) * 64;
        const head = resumeSha256(SHA256_INITIAL_CHAIN, 0).update(data.subarray(0, cut));
        expect(head.bytes).toBe(cut);
        const tail = resumeSha256(head.chainValue(), cut);
        // The tail fed in two uneven parts: buffering inside a run is OpenSSL's.
        const split = cut + (b % (data.length - cut + 1));
        tail.update(data.subarray(cut, split)).update(data.subarray(split));
        expect(tail.bytes).toBe(data.length);
        expect(tail.digest()).toBe(sha(data));
      }),
      { numRuns: 300 },
    );
  });

  it('starts from the initial state, so a run from it is plain sha256', () => {
    const data = randomBytes(1000);
    expect(resumeSha256(SHA256_INITIAL_CHAIN, 0).update(data).digest()).toBe(sha(data));
    expect(resumeSha256(SHA256_INITIAL_CHAIN, 0).digest()).toBe(sha(Buffer.alloc(0)));
  });

  it('carries the bit count past 2^32 bits (a resume beyond 512 MiB)', () => {
    // 512 MiB + 192 bytes of zeros, in reused 4 MiB views; node hashes the same stream.
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    const whole = createHash('sha256');
    const head = resumeSha256(SHA256_INITIAL_CHAIN, 0);
    for (let i = 0; i < 128; i++) {
      whole.update(zeros);
      head.update(zeros);
    }
    const tail = Buffer.alloc(192, 7);
    whole.update(tail);
    expect(
      resumeSha256(head.chainValue(), 2 ** 29)
        .update(tail)
        .digest(),
    ).toBe(whole.digest('hex'));
  });

  it('refuses a bad chaining value, an unaligned resume, a value off a block boundary and a spent run', () => {
    expect(() => resumeSha256('00', 0)).toThrow(RangeError);
    expect(() => resumeSha256(SHA256_INITIAL_CHAIN.toUpperCase(), 0)).toThrow(RangeError);
    expect(() => resumeSha256(SHA256_INITIAL_CHAIN, 63)).toThrow('multiple of 64');
    expect(() => resumeSha256(SHA256_INITIAL_CHAIN, -64)).toThrow(RangeError);
    const run = resumeSha256(SHA256_INITIAL_CHAIN, 0).update(Buffer.alloc(65));
    expect(() => run.chainValue()).toThrow('not a multiple of 64');
    run.digest();
    expect(() => run.update(Buffer.alloc(1))).toThrow('finished');
    expect(() => run.digest()).toThrow('finished');
  });
});
