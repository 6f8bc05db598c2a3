/**
 * Which peers the tracker hands out: up to `limit` of a swarm's peers, never the requester
 * itself, sampled at random within priority tiers. By default completed peers and origins
 * come first (they can serve every piece), then the rest; within a tier the order is random
 * so that a swarm's load spreads over all its seeders, and each answer is a fresh uniform
 * sample, so that the swarm forms a sparse random graph.
 *
 * The policy sees a swarm as positions grouped by kind (see swarm/swarm.ts) and picks
 * positions; a tier is a range of them. The work is O(peers handed out), whatever the size
 * of the swarm.
 */

/**
 * - `complete-first`: completed peers and origins, then downloading peers (default);
 * - `origins-first`: origins, then completed peers, then downloading peers;
 * - `random`: one uniform sample.
 */
export type PeerPriority = 'complete-first' | 'origins-first' | 'random';

export const PEER_PRIORITIES = ['complete-first', 'origins-first', 'random'] as const;

export interface PeerPolicyOptions {
  readonly priority?: PeerPriority;
  /** Uniform in [0, 1); defaults to Math.random. */
  readonly random?: () => number;
}

/**
 * A swarm's live members as positions 0 … size-1: first the origins, then the completed
 * peers that are not origins, then the peers still downloading.
 */
export interface PeerGroups {
  readonly origins: number;
  readonly completed: number;
  readonly size: number;
}

export interface PeerPolicy {
  /**
   * Positions of up to `limit` members to hand out, in handout order. `skip(position)` is
   * true for a member that must not be handed out (the requester, by id or by address).
   */
  select(groups: PeerGroups, limit: number, skip: (position: number) => boolean): number[];
}

/**
 * A tier smaller than this many times what is taken from it is sampled by a partial
 * shuffle of its positions; a larger one by drawing positions until enough distinct ones
 * are found, which needs few draws when most positions are still free.
 */
const DRAW_RATIO = 4;

export function createPeerPolicy(options: PeerPolicyOptions = {}): PeerPolicy {
  const priority = options.priority ?? 'complete-first';
  const random = options.random ?? Math.random;

  /** Partial Fisher-Yates over the tier's positions that are not skipped. */
  const shuffleFrom = (
    start: number,
    end: number,
    take: number,
    skip: (position: number) => boolean,
    out: number[],
  ) => {
    const positions: number[] = [];
    for (let p = start; p < end; p++) if (!skip(p)) positions.push(p);
    const count = Math.min(take, positions.length);
    for (let i = 0; i < count; i++) {
      const j = i + Math.min(positions.length - i - 1, Math.floor(random() * (positions.length - i)));
      const picked = positions[j] as number;
      positions[j] = positions[i] as number;
      out.push(picked);
    }
  };

  // Marks of the positions drawn in this select(): a position is taken when its mark is the
  // current round, so nothing is cleared or allocated per call.
  let marks = new Uint32Array(1024);
  let round = 0;
  const nextRound = (size: number) => {
    if (marks.length < size) marks = new Uint32Array(Math.max(size, marks.length * 2));
    round += 1;
    if (round === 0xffffffff) {
      marks.fill(0);
      round = 1;
    }
  };

  /** Uniform draws of distinct positions; falls back to the shuffle when draws keep missing. */
  const drawFrom = (
    start: number,
    end: number,
    take: number,
    skip: (position: number) => boolean,
    out: number[],
  ) => {
    const width = end - start;
    const first = out.length;
    // Skipped positions are at most a few (the requester), so misses are rare; a bound keeps a
    // tier that is mostly skipped from spinning.
    let misses = 0;
    while (out.length - first < take) {
      const p = start + Math.min(width - 1, Math.floor(random() * width));
      if (marks[p] === round || skip(p)) {
        if (++misses > take + 16) {
          out.length = first;
          shuffleFrom(start, end, take, skip, out);
          return;
        }
        continue;
      }
      marks[p] = round;
      out.push(p);
    }
  };

  const sample = (start: number, end: number, take: number, skip: (p: number) => boolean, out: number[]) => {
    if (take <= 0 || end <= start) return;
    if (end - start < DRAW_RATIO * take) shuffleFrom(start, end, take, skip, out);
    else drawFrom(start, end, take, skip, out);
  };

  return {
    select(groups, limit, skip) {
      const out: number[] = [];
      const { origins, completed, size } = groups;
      nextRound(size);
      const tiers =
        priority === 'complete-first'
          ? [origins + completed, size]
          : priority === 'origins-first'
            ? [origins, origins + completed, size]
            : [size];
      let start = 0;
      for (const end of tiers) {
        if (out.length >= limit) break;
        sample(start, end, limit - out.length, skip, out);
        start = end;
      }
      return out;
    },
  };
}
