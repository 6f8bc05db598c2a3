/**
 * The super-seeding policy of an origin (scheduler/origin-super-seeding.ts wires it to
 * a swarm blob). The origin's uplink is the swarm's scarcest link: every byte it sends
 * should be a byte the swarm cannot get elsewhere. So the origin never shows a
 * downloading peer its full bitfield; it offers each peer a few pieces at a time (its
 * bitfield shows just those, and a HAVE adds the next one whenever one went out):
 *
 * 1. First, pieces that no connected peer holds (or was sent), in index order from
 *    `firstPiece` round to it, each to one peer only. The origin's uplink carries one
 *    copy of the blob, and the first pieces spread first, so clients streaming the blob
 *    get their first bytes early. The origins of one blob start at different pieces
 *    (see node/swarm-seeder.ts), so that together they send each piece once, not each
 *    the same first pieces.
 * 2. Once every piece is held by some connected peer, pieces the peer lacks that fewer
 *    than `minCopies` peers hold (or were sent), fewest first: the tail of pieces the
 *    swarm has not spread yet. A piece is never sent more than `minCopies` times while
 *    that many of its holders are still connected.
 *
 * The pass is over the peers connected now, not the blob's history: a piece whose
 * holders all left (pullers killed mid-transfer, or a first wave of pullers gone before
 * a second arrives) is a first-pass piece again, sent once, not to every peer that asks.
 *
 * The origin learns who holds what from bitfields and HAVEs, as every peer does. Refusing
 * second copies after the fact instead, as a plain seed would have to, costs a round
 * trip per refusal during which the uplink may idle; offering costs nothing. Pure state;
 * the caller sends the messages.
 */

export interface SuperSeedOptions {
  readonly pieceCount: number;
  /** Pieces offered to each peer at a time. */
  readonly window: number;
  /** Once every piece is held by a connected peer, pieces held by fewer are offered again. */
  readonly minCopies: number;
  /** Where the first pass starts (default 0); it wraps round to the piece before. */
  readonly firstPiece?: number | undefined;
  /** Advertise `index` to `peerId` (a HAVE). */
  readonly offer: (peerId: string, index: number) => void;
}

export interface SuperSeed {
  /** Pieces to show in the bitfield of a peer that just joined. */
  join(peerId: string): readonly number[];
  /** The peer reported holding `index` (bitfield, HAVE, COMPLETE). */
  peerHas(peerId: string, index: number): void;
  /** Whether a request of `peerId` for `index` is served (else it gets the piece elsewhere). */
  mayServe(peerId: string, index: number): boolean;
  /** `index` left for `peerId`. */
  sent(peerId: string, index: number): void;
  /** The peer left the blob: its offers and the copies it held are gone. */
  leave(peerId: string): void;
}

interface PeerOffers {
  /** 1 where the peer holds the piece or we sent it. */
  readonly holds: Uint8Array;
  /** Offered and not yet sent. */
  readonly offered: Set<number>;
}

export function createSuperSeed(options: SuperSeedOptions): SuperSeed {
  const { pieceCount, window, minCopies } = options;
  const peers = new Map<string, PeerOffers>();
  /** Connected peers holding each piece (or sent it by us). */
  const copies = new Uint16Array(pieceCount);
  /** Pieces no connected peer holds: while any is left, the first pass goes on. */
  let uncopied = pieceCount;
  /** Pieces of the first pass offered to some peer, and to whom. */
  const firstOffers = new Map<number, string>();
  const first = options.firstPiece ?? 0;
  const start = Number.isInteger(first) && first > 0 && pieceCount > 0 ? first % pieceCount : 0;
  /** The piece at position `p` of the first pass, which starts at `start` and wraps round. */
  const pieceAt = (p: number) => (start + p) % pieceCount;
  const positionOf = (index: number) => (index - start + pieceCount) % pieceCount;
  /**
   * First-pass pieces at positions below the cursor are held or offered. A piece that
   * becomes a first-pass piece again moves the cursor back to it, so the pass keeps its order.
   */
  let cursor = 0;

  const inRange = (index: number) => Number.isInteger(index) && index >= 0 && index < pieceCount;
  const firstPass = () => uncopied > 0;

  function firstPassPiece(): number | undefined {
    for (; cursor < pieceCount; cursor++) {
      const index = pieceAt(cursor);
      if (copies[index] === 0 && !firstOffers.has(index)) return index;
    }
    return undefined;
  }

  /** The piece `state` lacks that the fewest peers hold, below `below` copies, not yet offered to it. */
  function rarePiece(state: PeerOffers): number | undefined {
    let best: number | undefined;
    let bestCopies = minCopies;
    for (let i = 0; i < pieceCount; i++) {
      const c = copies[i] ?? 0;
      if (c < bestCopies && state.holds[i] === 0 && !state.offered.has(i)) {
        best = i;
        bestCopies = c;
      }
    }
    return best;
  }

  /** Tops the peer's offers up to the window; returns the new ones. */
  function topUp(peerId: string, state: PeerOffers): number[] {
    const added: number[] = [];
    while (state.offered.size < window) {
      let index: number | undefined;
      if (firstPass()) {
        // First pass: a peer whose offers are all out waits for the pass to end.
        index = firstPassPiece();
        if (index !== undefined) firstOffers.set(index, peerId);
      } else {
        index = rarePiece(state);
      }
      if (index === undefined) break;
      state.offered.add(index);
      added.push(index);
    }
    return added;
  }

  function refill(peerId: string, state: PeerOffers): void {
    for (const index of topUp(peerId, state)) options.offer(peerId, index);
  }

  function refillAll(): void {
    for (const [peerId, state] of peers) if (state.offered.size < window) refill(peerId, state);
  }

  /** Records that the peer holds the piece; true when that ended the first pass. */
  function hold(state: PeerOffers, index: number): boolean {
    if (state.holds[index] === 1) return false;
    state.holds[index] = 1;
    copies[index] = (copies[index] ?? 0) + 1;
    if (copies[index] !== 1) return false;
    firstOffers.delete(index);
    uncopied--;
    return uncopied === 0;
  }

  /** A holder of the piece left; a piece nobody holds is a first-pass piece again. */
  function drop(index: number): void {
    copies[index] = (copies[index] ?? 1) - 1;
    if (copies[index] !== 0) return;
    uncopied++;
    giveBack(index);
    // Offered before its holders left: it stays offered to one peer, like any first-pass piece.
    for (const [peerId, state] of peers) {
      if (!state.offered.has(index)) continue;
      if (firstOffers.has(index)) state.offered.delete(index);
      else firstOffers.set(index, peerId);
    }
  }

  function giveBack(index: number): void {
    cursor = Math.min(cursor, positionOf(index));
  }

  return {
    join(peerId) {
      let state = peers.get(peerId);
      if (state === undefined) {
        state = { holds: new Uint8Array(pieceCount), offered: new Set() };
        peers.set(peerId, state);
        // These offers reach the peer in the bitfield returned, not by HAVE.
        topUp(peerId, state);
      }
      return [...state.offered];
    },

    peerHas(peerId, index) {
      const state = peers.get(peerId);
      if (state === undefined || !inRange(index)) return;
      const passEnded = hold(state, index);
      if (state.offered.delete(index)) refill(peerId, state);
      if (passEnded) refillAll();
    },

    mayServe(peerId, index) {
      const state = peers.get(peerId);
      if (state === undefined || !inRange(index)) return false;
      if (state.offered.has(index)) return true;
      if (state.holds[index] === 1) return false;
      // During the first pass only a piece nobody holds or was offered; then any with too few copies.
      if (firstPass()) return copies[index] === 0 && !firstOffers.has(index);
      return (copies[index] ?? 0) < minCopies;
    },

    sent(peerId, index) {
      const state = peers.get(peerId);
      if (state === undefined || !inRange(index)) return;
      const passEnded = hold(state, index);
      state.offered.delete(index);
      refill(peerId, state);
      if (passEnded) refillAll();
    },

    leave(peerId) {
      const state = peers.get(peerId);
      if (state === undefined) return;
      peers.delete(peerId);
      for (let i = 0; i < pieceCount; i++) if (state.holds[i] === 1) drop(i);
      for (const index of state.offered) {
        if (firstOffers.get(index) === peerId) {
          firstOffers.delete(index);
          giveBack(index);
        }
      }
      refillAll();
    },
  };
}
