/**
 * The hybrid logical clock of one build-index node: it hands out the versions of the
 * node's writes (tag values, tombstones, replication rules).
 *
 * Why a hybrid logical clock: versions must order writes across clusters whose
 * clocks disagree (a cluster 5 minutes ahead must not win with an older write), yet
 * stay close to wall time so that operators can read them and concurrent writes
 * order roughly as they happened. The clock keeps the largest (wall, counter) it has
 * issued or seen; every version it applies from elsewhere advances it (`observe`),
 * and every version it issues is greater than all of those. So a write that has seen
 * another always wins over it, whatever the wall clocks say; writes that did not see
 * each other are ordered by (wall, counter) and then by cluster and node ids, the
 * same on every node. Version vectors would detect concurrency exactly but grow with
 * the number of writers and still need a deterministic tie-break; last-writer-wins is
 * all a tag needs.
 *
 * The clock is not persisted: after a restart it starts again from wall time, and a
 * local write is still newer than the value it overwrites because `next(after)`
 * observes that value's version first.
 */
import { MAX_COUNTER, formatVersion, parseVersion, toNodeId } from './tag-version.js';

export interface HybridClock {
  readonly clusterId: string;
  readonly nodeId: string;
  /** A version greater than every version issued or observed, and than `after` when given. */
  next(after?: string): string;
  /** Advances the clock past a version written elsewhere. */
  observe(version: string): void;
}

export interface HybridClockOptions {
  readonly clusterId: string;
  /** Anything naming the node (its URL); reduced to [a-z0-9-]{0,63}. */
  readonly nodeId: string;
  /** Wall-clock milliseconds since the epoch; injected so tests can run a node ahead or behind. */
  readonly wallClock?: () => number;
}

export function createHybridClock(options: HybridClockOptions): HybridClock {
  const wall = options.wallClock ?? Date.now;
  const nodeId = toNodeId(options.nodeId);
  let last = 0;
  let counter = 0;

  const observe = (version: string): void => {
    const seen = parseVersion(version);
    if (seen.wallMs > last || (seen.wallMs === last && seen.counter > counter)) {
      last = seen.wallMs;
      counter = seen.counter;
    }
  };

  return {
    clusterId: options.clusterId,
    nodeId,
    observe,
    next(after) {
      if (after !== undefined) observe(after);
      const now = Math.floor(wall());
      if (now > last) {
        last = now;
        counter = 0;
      } else if (counter >= MAX_COUNTER) {
        // More than 16M versions in one millisecond: borrow the next one.
        last += 1;
        counter = 0;
      } else {
        counter += 1;
      }
      return formatVersion({ wallMs: last, counter, clusterId: options.clusterId, nodeId });
    },
  };
}
