import { describe, expect, it } from 'vitest';
import { createPeerBlacklist } from './peer-blacklist.js';

describe('peer blacklist', () => {
  it('blocks a peer for one blob only, until its ban expires, doubling for repeat offenders', () => {
    let clock = 0;
    const list = createPeerBlacklist({ banMs: 1000, maxBanMs: 3000, now: () => clock });
    expect(list.add('blob-a', 'p1', 'bad-piece')).toEqual({ until: 1000, offences: 1 });
    expect(list.isBlocked('blob-a', 'p1')).toBe(true);
    expect(list.isBlocked('blob-b', 'p1')).toBe(false);
    clock = 1000;
    expect(list.isBlocked('blob-a', 'p1')).toBe(false);
    expect(list.add('blob-a', 'p1', 'stalled')).toEqual({ until: 3000, offences: 2 });
    expect(list.add('blob-a', 'p1', 'stalled')).toEqual({ until: 4000, offences: 3 }); // capped at 3000 ms
  });

  it('forgets long-expired entries when pruned', () => {
    let clock = 0;
    const list = createPeerBlacklist({ banMs: 10, maxBanMs: 100, now: () => clock });
    list.add('b', 'p', 'protocol-error');
    clock = 50;
    list.prune();
    expect(list.size).toBe(1);
    clock = 200;
    list.prune();
    expect(list.size).toBe(0);
  });
});
