/**
 * The piece picking policy, rarest first: which piece to ask which peer for, for one
 * blob being downloaded. Pure, synchronous state owned by the scheduler's single
 * writer: I/O reports into it (a peer's bitfield, a HAVE, a verified piece, a failure)
 * and it answers with requests to send.
 *
 * - Rarest first: among pieces the peer has and we lack, the ones the fewest connected
 *   peers hold, with random tie-breaks so that leechers spread over different pieces.
 * - Pipelining: at most `pipelineDepth` requests outstanding per peer.
 * - Timeouts: a request older than `requestTimeoutMs` is released for another peer.
 * - Endgame: once every missing piece is requested, pieces may also be asked from a
 *   second (up to `endgameDuplicates`) peer; the first copy wins and the rest are cancelled.
 * - Origins last: a piece some other agent holds is not asked from an origin (outside
 *   the endgame), and requests to origins are outside the request budget. An origin's
 *   uplink then carries pieces nobody else has, without waiting for our other requests.
 * - Streaming first: the piece a client reading the blob waits for (`urgent`) is asked
 *   for before the rarest, so its first bytes do not wait for pieces it reads last; then
 *   the `readAhead` pieces after it, rarest first among them, before the rest of the
 *   blob. The client then reads pieces nearly as fast as they arrive instead of waiting
 *   for the gaps rarest-first leaves until the end, and most pieces are still in memory
 *   (and written nearly in order) when it does.
 *
 * Blobs have at most about 2,000 pieces, so a linear scan per pick is cheap and keeps
 * the state small. It runs for every request, so what it reads per piece lives in typed
 * arrays: availability, requests per piece, and byte-per-piece copies of what we hold
 * and what each peer holds.
 */
import type { Bitfield } from '../../storage/bitfield.js';

export interface PiecePickerOptions {
  readonly pieceCount: number;
  /** Pieces already verified (e.g. resumed from disk); updated by `received`. */
  readonly have: Bitfield;
  readonly pipelineDepth?: number;
  readonly requestTimeoutMs?: number;
  readonly endgameDuplicates?: number;
  /** Milliseconds, monotonic; injectable so tests drive time. */
  readonly now: () => number;
  /** [0, 1); injectable for deterministic tests. */
  readonly random?: () => number;
  /**
   * Requests outstanding over all peers but origins (default unbounded). Requests queue
   * in the senders' uplinks: more than a few seconds of them only adds latency, and
   * pieces asked for long ago hold up the endgame. Requests to origins are not counted:
   * an origin offers few pieces at a time, each one the swarm lacks, and its uplink must
   * never wait for our other requests to drain.
   */
  readonly maxOutstanding?: number;
  /** Origins are asked only for pieces no other peer holds (default: no peer is one). */
  readonly isOrigin?: (peerId: string) => boolean;
  /** The piece a reader waits for, if any: requested ahead of rarest-first. */
  readonly urgent?: () => number | undefined;
  /** Pieces after the urgent one picked (rarest first) before the rest of the blob (default 0). */
  readonly readAhead?: number;
}

export interface PieceRequest {
  readonly peerId: string;
  readonly index: number;
}

export interface PiecePicker {
  addPeer(peerId: string, pieces: Bitfield): void;
  /** Forgets the peer; its outstanding requests become available to others. */
  removePeer(peerId: string): void;
  peerHas(peerId: string, index: number): void;
  /** New requests to send to `peerId` now: fills its pipeline, or at most `limit` of them. */
  next(peerId: string, limit?: number): number[];
  /** A verified piece arrived; returns requests for the same piece to cancel elsewhere. */
  received(peerId: string, index: number): PieceRequest[];
  /** The peer rejected the request or sent a bad piece: ask someone else. */
  failed(peerId: string, index: number): void;
  /** Releases requests older than the timeout and returns them (their peers stalled). */
  expire(): PieceRequest[];
  outstanding(peerId: string): number;
  availability(index: number): number;
  readonly missing: number;
  readonly complete: boolean;
  readonly endgame: boolean;
}

interface PeerState {
  readonly pieces: Bitfield;
  /** `pieces` as one byte per piece, for the scan. */
  readonly holds: Uint8Array;
  readonly origin: boolean;
  /** index → time the request was sent */
  readonly requests: Map<number, number>;
}

export function createPiecePicker(options: PiecePickerOptions): PiecePicker {
  const { pieceCount, have, now } = options;
  const depth = options.pipelineDepth ?? 4;
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const maxCopies = 1 + (options.endgameDuplicates ?? 1);
  const random = options.random ?? Math.random;
  const peers = new Map<string, PeerState>();
  const availability = new Uint16Array(pieceCount);
  /** Like availability, counting only peers that are not origins. */
  const agentAvailability = new Uint16Array(pieceCount);
  const isOrigin = options.isOrigin ?? (() => false);
  const maxOutstanding = options.maxOutstanding ?? Infinity;
  const readAhead = options.readAhead ?? 0;
  let inFlight = 0;
  /** How many peers a piece is currently requested from. */
  const requestedFrom = new Uint8Array(pieceCount);
  let unrequestedMissing = pieceCount - have.count();
  /** `have` as one byte per piece, for the scan; `received` is where both change. */
  const held = new Uint8Array(pieceCount);
  for (const i of have.present()) held[i] = 1;

  function release(state: PeerState, index: number): void {
    if (!state.requests.delete(index)) return;
    if (!state.origin) inFlight--;
    requestedFrom[index] = (requestedFrom[index] ?? 1) - 1;
    if (requestedFrom[index] === 0 && !have.has(index)) unrequestedMissing++;
  }

  function request(state: PeerState, index: number): void {
    state.requests.set(index, now());
    if (!state.origin) inFlight++;
    if (requestedFrom[index] === 0) unrequestedMissing--;
    requestedFrom[index] = (requestedFrom[index] ?? 0) + 1;
  }

  /** The piece a reader waits for, when this peer may be asked for it and nobody is yet. */
  function urgentFor(state: PeerState, index: number | undefined): number | undefined {
    if (index === undefined || index < 0 || index >= pieceCount || have.has(index)) return undefined;
    if (!state.pieces.has(index) || (requestedFrom[index] ?? 0) > 0) return undefined;
    if (state.origin && (agentAvailability[index] ?? 0) > 0) return undefined;
    return index;
  }

  /** The rarest eligible piece of [from, to) for this peer, ties broken at random (reservoir sampling). */
  function pick(state: PeerState, endgame: boolean, from = 0, to = pieceCount): number | undefined {
    let best: number | undefined;
    let bestAvailability = Infinity;
    let ties = 0;
    const { holds } = state;
    for (let i = from; i < to; i++) {
      if (held[i] === 1 || holds[i] !== 1) continue;
      const copies = requestedFrom[i] ?? 0;
      if (endgame ? copies >= maxCopies : copies > 0) continue;
      // Only a piece requested somewhere can be requested from this peer already.
      if (copies > 0 && state.requests.has(i)) continue;
      if (state.origin && !endgame && (agentAvailability[i] ?? 0) > 0) continue;
      const a = availability[i] ?? 0;
      if (a < bestAvailability) {
        best = i;
        bestAvailability = a;
        ties = 1;
      } else if (a === bestAvailability && random() * ++ties < 1) {
        best = i;
      }
    }
    return best;
  }

  return {
    addPeer(peerId, pieces) {
      if (peers.has(peerId)) this.removePeer(peerId);
      const origin = isOrigin(peerId);
      const holds = new Uint8Array(pieceCount);
      peers.set(peerId, { pieces: pieces.clone(), holds, origin, requests: new Map() });
      for (const i of pieces.present()) {
        holds[i] = 1;
        availability[i] = (availability[i] ?? 0) + 1;
        if (!origin) agentAvailability[i] = (agentAvailability[i] ?? 0) + 1;
      }
    },

    removePeer(peerId) {
      const state = peers.get(peerId);
      if (state === undefined) return;
      for (const index of [...state.requests.keys()]) release(state, index);
      for (const i of state.pieces.present()) {
        availability[i] = (availability[i] ?? 1) - 1;
        if (!state.origin) agentAvailability[i] = (agentAvailability[i] ?? 1) - 1;
      }
      peers.delete(peerId);
    },

    peerHas(peerId, index) {
      const state = peers.get(peerId);
      if (state === undefined || index < 0 || index >= pieceCount) return;
      if (!state.pieces.set(index)) return;
      state.holds[index] = 1;
      availability[index] = (availability[index] ?? 0) + 1;
      if (!state.origin) agentAvailability[index] = (agentAvailability[index] ?? 0) + 1;
    },

    next(peerId, limit = Infinity) {
      const state = peers.get(peerId);
      if (state === undefined) return [];
      const picked: number[] = [];
      const budget = () => state.origin || inFlight < maxOutstanding;
      while (picked.length < limit && state.requests.size < depth && budget()) {
        const endgame = unrequestedMissing === 0;
        const urgent = options.urgent?.();
        const ahead =
          urgent === undefined || readAhead <= 0
            ? undefined
            : pick(state, endgame, Math.max(0, urgent + 1), Math.min(pieceCount, urgent + 1 + readAhead));
        const index = urgentFor(state, urgent) ?? ahead ?? pick(state, endgame);
        if (index === undefined) break;
        request(state, index);
        picked.push(index);
      }
      return picked;
    },

    received(peerId, index) {
      const cancels: PieceRequest[] = [];
      const sender = peers.get(peerId);
      if (have.has(index)) {
        if (sender !== undefined) release(sender, index);
        return cancels;
      }
      // Mark it held first, so that releasing its requests does not count it as missing.
      if (requestedFrom[index] === 0) unrequestedMissing--;
      have.set(index);
      held[index] = 1;
      if (sender !== undefined) release(sender, index);
      for (const [otherId, other] of peers) {
        if (!other.requests.has(index)) continue;
        release(other, index);
        cancels.push({ peerId: otherId, index });
      }
      return cancels;
    },

    failed(peerId, index) {
      const state = peers.get(peerId);
      if (state !== undefined) release(state, index);
    },

    expire() {
      const cutoff = now() - timeoutMs;
      const expired: PieceRequest[] = [];
      for (const [peerId, state] of peers) {
        for (const [index, sentAt] of state.requests) {
          if (sentAt > cutoff) continue;
          release(state, index);
          expired.push({ peerId, index });
        }
      }
      return expired;
    },

    outstanding(peerId) {
      return peers.get(peerId)?.requests.size ?? 0;
    },

    availability(index) {
      return availability[index] ?? 0;
    },

    get missing() {
      return pieceCount - have.count();
    },

    get complete() {
      return have.count() === pieceCount;
    },

    get endgame() {
      return unrequestedMissing === 0 && have.count() < pieceCount;
    },
  };
}
