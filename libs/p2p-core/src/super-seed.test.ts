import { describe, expect, it } from 'vitest';
import { createSuperSeed } from './super-seed.js';

function superSeed(pieceCount: number, window = 2, minCopies = 2) {
  const offers: [string, number][] = [];
  const seed = createSuperSeed({
    pieceCount,
    window,
    minCopies,
    offer: (peerId, index) => offers.push([peerId, index]),
  });
  return { seed, offers };
}

describe('super-seed', () => {
  it('offers each peer distinct pieces, in index order', () => {
    const { seed, offers } = superSeed(8);
    expect(seed.join('a')).toEqual([0, 1]);
    expect(seed.join('b')).toEqual([2, 3]);
    // Offers made at join travel in the bitfield, not as HAVEs.
    expect(offers).toEqual([]);
    expect(seed.mayServe('a', 0)).toBe(true);
    expect(seed.mayServe('b', 0)).toBe(false);
    // Nobody was offered piece 7 and nobody holds it: sending it first is fine.
    expect(seed.mayServe('b', 7)).toBe(true);
  });

  it('offers the next piece as soon as one went out, and no piece twice in the first pass', () => {
    const { seed, offers } = superSeed(6);
    seed.join('a');
    seed.join('b');
    seed.sent('a', 0);
    expect(offers).toEqual([['a', 4]]);
    // A second copy of piece 0 waits until every piece went out once.
    expect(seed.mayServe('b', 0)).toBe(false);
    seed.sent('b', 2);
    expect(offers).toEqual([
      ['a', 4],
      ['b', 5],
    ]);
  });

  it('treats pieces a peer holds as gone out and offers that peer others', () => {
    const { seed, offers } = superSeed(6);
    expect(seed.join('a')).toEqual([0, 1]);
    // A resumed peer reports pieces it already had, offered ones included.
    seed.peerHas('a', 1);
    expect(offers).toEqual([['a', 2]]);
    seed.peerHas('a', 2);
    expect(offers).toEqual([
      ['a', 2],
      ['a', 3],
    ]);
    expect(seed.join('b')).toEqual([4, 5]);
  });

  it('after the first pass, offers only pieces with fewer than minCopies holders, fewest first', () => {
    const { seed, offers } = superSeed(3, 1);
    seed.join('a');
    seed.join('b');
    seed.join('c');
    seed.sent('a', 0);
    seed.sent('b', 1);
    seed.sent('c', 2);
    // The first pass is over: each peer is offered a piece it lacks held by one peer.
    expect(offers).toEqual([
      ['c', 0],
      ['a', 1],
      ['b', 0],
    ]);
    seed.peerHas('c', 1);
    // c got piece 1 elsewhere; its offer of 0 stands.
    expect(offers).toHaveLength(3);
    seed.peerHas('b', 2);
    // b got 2 elsewhere: it still lacks nothing rare but 0, already offered to it.
    expect(offers).toHaveLength(3);
    expect(seed.mayServe('a', 2)).toBe(false);
    expect(seed.mayServe('a', 1)).toBe(true);
  });

  it("gives a departed peer's unsent offers to the others, and counts its copies as lost", () => {
    const { seed, offers } = superSeed(4, 1);
    seed.join('a');
    seed.join('b');
    seed.sent('b', 1);
    expect(offers).toEqual([['b', 2]]);
    seed.leave('a');
    seed.sent('b', 2);
    expect(offers).toEqual([
      ['b', 2],
      ['b', 0],
    ]);
    seed.sent('b', 0);
    seed.join('c');
    seed.sent('c', 3);
    // b leaves with pieces 0, 1 and 2: they are rare again, and offered to c.
    seed.leave('b');
    expect(offers.at(-1)).toEqual(['c', 0]);
  });

  it('ignores indices outside the blob and unknown peers', () => {
    const { seed, offers } = superSeed(2);
    seed.join('a');
    seed.peerHas('a', 5);
    seed.peerHas('a', -1);
    seed.sent('a', 9);
    seed.sent('x', 0);
    expect(seed.mayServe('a', 7)).toBe(false);
    expect(seed.mayServe('x', 0)).toBe(false);
    expect(offers).toEqual([]);
  });
});
