import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBitfield, type Bitfield } from '../../storage/bitfield.js';
import { createPiecePicker } from './rarest-first-policy.js';

function bits(length: number, indexes: Iterable<number>): Bitfield {
  const b = createBitfield(length);
  for (const i of indexes) b.set(i);
  return b;
}
const all = (n: number) =>
  bits(
    n,
    Array.from({ length: n }, (_, i) => i),
  );

function setup(
  pieceCount: number,
  options: { depth?: number; timeout?: number; random?: () => number } = {},
) {
  let clock = 0;
  const have = createBitfield(pieceCount);
  const picker = createPiecePicker({
    pieceCount,
    have,
    pipelineDepth: options.depth ?? 2,
    requestTimeoutMs: options.timeout ?? 1000,
    now: () => clock,
    random: options.random ?? (() => 0.5),
  });
  return { picker, have, advance: (ms: number) => (clock += ms) };
}

describe('piece picker', () => {
  it('asks for the piece a reader waits for before the rarest, once, and not from an origin others can spare', () => {
    let urgent: number | undefined = 0;
    const origins = new Set(['origin']);
    const picker = createPiecePicker({
      pieceCount: 8,
      have: createBitfield(8),
      pipelineDepth: 2,
      now: () => 0,
      random: () => 0.5,
      isOrigin: (peerId) => origins.has(peerId),
      urgent: () => urgent,
    });
    picker.addPeer('origin', all(8));
    picker.addPeer('a', all(8));
    picker.addPeer('b', bits(8, [0, 1, 7]));
    // Piece 0 is the most common, yet a reader waits for it: it goes first, to an agent.
    expect(picker.next('origin', 1)).not.toContain(0);
    expect(picker.next('a', 1)).toEqual([0]);
    // Already asked of a: not asked again elsewhere.
    expect(picker.next('b', 1)).not.toContain(0);
    urgent = 6;
    // b lacks piece 6; a has it.
    expect(picker.next('b', 1)).not.toContain(6);
    expect(picker.next('a', 1)).toEqual([6]);
  });

  it('asks for the readAhead pieces after the one a reader waits for before the rest, rarest first', () => {
    const reader: { waitsFor: number | undefined } = { waitsFor: undefined };
    const picker = createPiecePicker({
      pieceCount: 32,
      have: createBitfield(32),
      pipelineDepth: 8,
      now: () => 0,
      random: () => 0.5,
      urgent: () => reader.waitsFor,
      readAhead: 3,
    });
    picker.addPeer('a', all(32));
    picker.addPeer('b', bits(32, [11, 20, 21, 22]));
    // Nobody reads: rarity alone (pieces b lacks are the rarest).
    expect(picker.next('a', 1)).toEqual([0]);
    reader.waitsFor = 10;
    // The waited piece, then the three after it (12, rarer than 11, first), then the rest.
    expect(picker.next('a', 5)).toEqual([10, 12, 13, 11, 1]);
  });

  it('keeps at most maxOutstanding requests over all peers', () => {
    const have = createBitfield(8);
    const picker = createPiecePicker({
      pieceCount: 8,
      have,
      pipelineDepth: 4,
      maxOutstanding: 5,
      now: () => 0,
    });
    picker.addPeer('a', all(8));
    picker.addPeer('b', all(8));
    const fromA = picker.next('a');
    expect(fromA).toHaveLength(4);
    expect(picker.next('b')).toHaveLength(1);
    expect(picker.next('b')).toEqual([]);
    // A piece arrives: one request may go out again.
    picker.received('a', fromA[0]!);
    expect(picker.next('b')).toHaveLength(1);
  });

  it('asks origins outside the request budget', () => {
    const have = createBitfield(8);
    const picker = createPiecePicker({
      pieceCount: 8,
      have,
      pipelineDepth: 2,
      maxOutstanding: 2,
      now: () => 0,
      isOrigin: (peerId) => peerId === 'origin',
    });
    picker.addPeer('a', bits(8, [0, 1, 2, 3]));
    picker.addPeer('origin', bits(8, [6, 7]));
    expect(picker.next('a')).toHaveLength(2);
    // The budget is spent on a, yet the origin's pieces are asked for at once...
    expect(picker.next('origin').sort()).toEqual([6, 7]);
    // ...and do not use up the budget when they arrive.
    picker.received('origin', 6);
    expect(picker.next('a')).toEqual([]);
  });

  it('asks an origin only for pieces no other peer holds, until the endgame', () => {
    const have = createBitfield(4);
    const picker = createPiecePicker({
      pieceCount: 4,
      have,
      pipelineDepth: 4,
      now: () => 0,
      random: () => 0.5,
      isOrigin: (peerId) => peerId === 'origin',
    });
    picker.addPeer('origin', all(4));
    picker.addPeer('agent', bits(4, [0, 1]));
    expect(picker.next('origin').sort()).toEqual([2, 3]);
    picker.peerHas('agent', 3);
    picker.received('origin', 2);
    // Piece 3 went out to the origin before the agent had it; 0 and 1 only from the agent.
    expect(picker.next('origin')).toEqual([]);
    // The agent's own pieces 0 and 1; the endgame starts once they are asked for, so
    // piece 3 may be duplicated from the agent too.
    expect(picker.next('agent').slice(0, 2).sort()).toEqual([0, 1]);
    // Endgame: every missing piece is requested, so the origin may duplicate them.
    expect(picker.endgame).toBe(true);
    expect(picker.next('origin').sort()).toEqual([0, 1]);
  });

  it('asks for the rarest piece first', () => {
    const { picker } = setup(4, { depth: 1 });
    picker.addPeer('a', all(4));
    picker.addPeer('b', bits(4, [0, 1, 2]));
    picker.addPeer('c', bits(4, [0, 1]));
    // Piece 3 is held by one peer only.
    expect(picker.next('a')).toEqual([3]);
    // For b, piece 2 (2 holders) is rarer than 0 and 1 (3 holders).
    expect(picker.next('b')).toEqual([2]);
  });

  it('fills each peer pipeline up to its depth and never asks two peers for one piece outside endgame', () => {
    const { picker } = setup(10, { depth: 3 });
    picker.addPeer('a', all(10));
    picker.addPeer('b', all(10));
    const a = picker.next('a');
    const b = picker.next('b');
    expect(a).toHaveLength(3);
    expect(b).toHaveLength(3);
    expect(new Set([...a, ...b]).size).toBe(6);
    expect(picker.next('a')).toEqual([]);
  });

  it('breaks ties at random, so peers spread over different pieces', () => {
    const firstPicks = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      let state = seed + 1;
      const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
      const { picker } = setup(16, { depth: 1, random });
      picker.addPeer('a', all(16));
      firstPicks.add(picker.next('a')[0]!);
    }
    expect(firstPicks.size).toBeGreaterThan(5);
  });

  it('moves a timed-out request to another peer', () => {
    const { picker, advance } = setup(1, { depth: 1, timeout: 1000 });
    picker.addPeer('slow', all(1));
    picker.addPeer('fast', all(1));
    expect(picker.next('slow')).toEqual([0]);
    advance(999);
    expect(picker.expire()).toEqual([]);
    advance(2);
    expect(picker.expire()).toEqual([{ peerId: 'slow', index: 0 }]);
    picker.removePeer('slow');
    expect(picker.next('fast')).toEqual([0]);
  });

  it('in endgame asks a second peer for the last pieces and cancels the loser', () => {
    const { picker } = setup(2, { depth: 4 });
    picker.addPeer('a', all(2));
    picker.addPeer('b', all(2));
    expect(picker.next('a').sort()).toEqual([0, 1]);
    expect(picker.endgame).toBe(true);
    expect(picker.next('b').sort()).toEqual([0, 1]);
    expect(picker.received('b', 0)).toEqual([{ peerId: 'a', index: 0 }]);
    expect(picker.received('a', 1)).toEqual([{ peerId: 'b', index: 1 }]);
    expect(picker.complete).toBe(true);
    expect(picker.outstanding('a') + picker.outstanding('b')).toBe(0);
  });

  it('re-offers a piece after a bad copy or a reject', () => {
    const { picker } = setup(1, { depth: 1 });
    picker.addPeer('liar', all(1));
    picker.addPeer('honest', all(1));
    expect(picker.next('liar')).toEqual([0]);
    picker.failed('liar', 0);
    picker.removePeer('liar');
    expect(picker.next('honest')).toEqual([0]);
    picker.received('honest', 0);
    expect(picker.complete).toBe(true);
  });

  it('follows HAVE announcements and peers leaving', () => {
    const { picker } = setup(3, { depth: 3 });
    picker.addPeer('a', bits(3, []));
    expect(picker.next('a')).toEqual([]);
    picker.peerHas('a', 2);
    expect(picker.availability(2)).toBe(1);
    expect(picker.next('a')).toEqual([2]);
    picker.removePeer('a');
    expect(picker.availability(2)).toBe(0);
    picker.addPeer('b', all(3));
    expect(picker.next('b').sort()).toEqual([0, 1, 2]);
  });

  it('always completes: any order of peers, failures and timeouts ends with every piece held once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 9 })), {
          maxLength: 200,
        }),
        (pieceCount, steps) => {
          const { picker, have, advance } = setup(pieceCount, { depth: 3, timeout: 50 });
          const peers = ['p0', 'p1', 'p2'];
          for (const p of peers) picker.addPeer(p, all(pieceCount));
          for (const [action, n] of steps) {
            const peer = peers[n % peers.length]!;
            const asked = picker.next(peer);
            if (asked.length === 0) continue;
            const index = asked[n % asked.length]!;
            if (action === 0) picker.received(peer, index);
            else if (action === 1) picker.failed(peer, index);
            else if (action === 2) {
              advance(60);
              picker.expire();
            }
          }
          // Drain: requests left hanging time out; then everyone delivers what it is asked for.
          for (let round = 0; round < pieceCount * 4 && !picker.complete; round++) {
            advance(60);
            picker.expire();
            for (const p of peers) for (const index of picker.next(p)) picker.received(p, index);
          }
          expect(picker.complete).toBe(true);
          expect(have.count()).toBe(pieceCount);
          expect(peers.reduce((sum, p) => sum + picker.outstanding(p), 0)).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
