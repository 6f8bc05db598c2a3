import { describe, expect, it } from 'vitest';
import { createSuperSeed } from './super-seed-policy.js';

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

  it('starts a new first pass for peers that arrive after the earlier ones left', () => {
    const { seed } = superSeed(4, 2, Infinity);
    seed.join('a');
    for (const index of [0, 1, 2, 3]) seed.sent('a', index);
    seed.leave('a');
    // A second wave: nobody connected holds anything, so each piece goes out once again,
    // in index order, and not to every peer that asks.
    expect(seed.join('b')).toEqual([0, 1]);
    expect(seed.join('c')).toEqual([2, 3]);
    expect(seed.mayServe('c', 0)).toBe(false);
    expect(seed.mayServe('b', 3)).toBe(false);
  });

  it('sends a piece whose holders all left once more, not to every peer that lacks it', () => {
    const { seed, offers } = superSeed(10, 1, Infinity);
    for (const peer of ['a', 'b', 'c']) seed.join(peer);
    for (const index of [0, 1]) seed.peerHas('a', index);
    for (let index = 2; index < 10; index++) seed.peerHas('b', index);
    // Every piece is held: c may have any piece it lacks.
    expect(seed.mayServe('c', 5)).toBe(true);
    const before = offers.length;
    // b is killed: pieces 2 to 9 are held by nobody connected.
    seed.leave('b');
    const offeredNow = offers.slice(before).map(([, index]) => index);
    expect(new Set(offeredNow).size).toBe(offeredNow.length);
    // a and c both ask for four of them while the pass goes on: each is sent once.
    const sends = new Map<number, number>();
    for (const peer of ['c', 'a']) {
      for (const index of [2, 3, 4, 5]) {
        if (!seed.mayServe(peer, index)) continue;
        seed.sent(peer, index);
        sends.set(index, (sends.get(index) ?? 0) + 1);
      }
    }
    expect([...sends.values()]).toEqual([1, 1, 1, 1]);
    // Once every piece is held again, a may have the ones c took.
    for (let index = 6; index < 10; index++) seed.peerHas('a', index);
    const tookByC = [2, 3, 4, 5].find((i) => !seed.mayServe('c', i) && seed.mayServe('a', i));
    expect(tookByC).toBeDefined();
  });

  it('starts the first pass at firstPiece and wraps round to the pieces before it', () => {
    const offers: [string, number][] = [];
    const seed = createSuperSeed({
      pieceCount: 5,
      window: 2,
      minCopies: Infinity,
      firstPiece: 3,
      offer: (peerId, index) => offers.push([peerId, index]),
    });
    expect(seed.join('a')).toEqual([3, 4]);
    expect(seed.join('b')).toEqual([0, 1]);
    seed.sent('a', 3);
    expect(offers).toEqual([['a', 2]]);
    // A piece whose only holder left is sent again, still in the pass's order.
    seed.sent('b', 0);
    seed.leave('a');
    expect(offers.at(-1)).toEqual(['b', 3]);
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
