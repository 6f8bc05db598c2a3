/**
 * A partial blob's bitfield, recorded in rounds: one atomic bitfield write claiming the
 * pieces written before it started. Pieces arriving meanwhile wait for the next round,
 * which writes start at most every `intervalMs` (counted from the start of the last): a
 * fast download rewrites its bitfield a few times a second, not once per piece, and a
 * restart loses at most the pieces of the last round or interval. A failed round fails
 * the next write once (the disk is not taking our pieces); the next round retries.
 */
import type { Clock, TimerHandle } from '@kraken/foundation';

export interface BitfieldRoundsOptions {
  /** Writes the bitfield as it is now (encoded before the first await), atomically. */
  readonly write: () => Promise<void>;
  readonly clock: Clock;
  /** Least time between the starts of two rounds that writes started (ms). */
  readonly intervalMs: number;
  /** Rounds started by a timer are handed here, so that closing can wait for them. */
  readonly track: (round: Promise<unknown>) => void;
}

export interface BitfieldRounds {
  /** Throws a failed round's error, once. */
  takeError(): void;
  /** A piece was written: it is recorded by the next round, started on the interval. */
  written(): void;
  /** Rounds until every piece written so far is recorded, starting now; stops at a failure. */
  flush(): Promise<void>;
  /** flush(), then throws a failed round's error. */
  sync(): Promise<void>;
  /** No more rounds on the interval (closing); flush() still runs them. */
  stop(): void;
}

export function createBitfieldRounds(options: BitfieldRoundsOptions): BitfieldRounds {
  const { clock, intervalMs } = options;
  let generation = 0;
  let recorded = 0;
  let flushing: Promise<void> | undefined;
  let failure: unknown;
  let lastRoundAt = -Infinity;
  let timer: TimerHandle | undefined;
  let stopped = false;

  function round(): Promise<void> {
    flushing ??= (async () => {
      // Paced start to start: a round slower than the interval is followed at once.
      lastRoundAt = clock.now();
      const target = generation;
      await options.write();
      recorded = target;
    })()
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        flushing = undefined;
      });
    return flushing;
  }

  function schedule(): void {
    if (stopped || timer !== undefined || recorded >= generation) return;
    const wait = Math.max(0, lastRoundAt + intervalMs - clock.now());
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (!stopped) options.track(round().then(schedule));
    }, wait);
  }

  async function flush(): Promise<void> {
    if (timer !== undefined) {
      clock.clearTimeout(timer);
      timer = undefined;
    }
    while (recorded < generation && failure === undefined) await round();
  }

  function takeError(): void {
    if (failure === undefined) return;
    const err = failure;
    failure = undefined;
    throw err;
  }

  return {
    takeError,
    written() {
      generation++;
      schedule();
    },
    flush,
    async sync() {
      await flush();
      takeError();
    },
    stop() {
      stopped = true;
    },
  };
}
