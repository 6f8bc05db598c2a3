import bcrypt from 'bcryptjs';
import { describe, expect, it, vi } from 'vitest';
import { createPasswordVerifier } from './password-verifier.js';

const aliceHash = bcrypt.hashSync('secret', 4);

function setup(cacheMs = 60_000, cacheEntries = 10) {
  let now = 0;
  const users = new Map([['alice', aliceHash]]);
  const verifier = createPasswordVerifier({ users: () => users, cacheMs, cacheEntries, now: () => now });
  return { verifier, users, advance: (ms: number) => (now += ms) };
}

describe('password verifier', () => {
  it('accepts the right password and refuses a wrong one or an unknown user', async () => {
    const { verifier } = setup();
    expect(await verifier.verify('alice', 'secret')).toBe(true);
    expect(await verifier.verify('alice', 'Secret')).toBe(false);
    expect(await verifier.verify('mallory', 'secret')).toBe(false);
    // bcrypt looks at 72 bytes only: a longer password must not pass on its prefix.
    expect(await verifier.verify('alice', 'secret'.padEnd(80, 'x'))).toBe(false);
  });

  it('remembers a success for a while, and forgets it when the hash changes', async () => {
    const { verifier, users, advance } = setup();
    const compare = vi.spyOn(bcrypt, 'compare');
    expect(await verifier.verify('alice', 'secret')).toBe(true);
    expect(await verifier.verify('alice', 'secret')).toBe(true);
    expect(compare).toHaveBeenCalledTimes(1);
    advance(60_001);
    expect(await verifier.verify('alice', 'secret')).toBe(true);
    expect(compare).toHaveBeenCalledTimes(2);
    // A new password in a reloaded file: the old one is checked again, and fails.
    users.set('alice', bcrypt.hashSync('rotated', 4));
    expect(await verifier.verify('alice', 'secret')).toBe(false);
    expect(await verifier.verify('alice', 'rotated')).toBe(true);
    users.delete('alice');
    expect(await verifier.verify('alice', 'rotated')).toBe(false);
    compare.mockRestore();
  });

  it('never remembers failures, and nothing with a cache of 0', async () => {
    const { verifier } = setup(0);
    const compare = vi.spyOn(bcrypt, 'compare');
    await verifier.verify('alice', 'wrong');
    await verifier.verify('alice', 'secret');
    await verifier.verify('alice', 'secret');
    expect(compare).toHaveBeenCalledTimes(3);
    compare.mockRestore();
  });
});
