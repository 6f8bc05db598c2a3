/**
 * A clock that only moves when a test says so. `advance(ms)` fires due timers in
 * order (by due time, then by creation), and after each one gives promise callbacks
 * and stream I/O a macrotask turn to settle, so that the work a timer starts (a
 * retry, a refresh, a probe round) has run before the next timer fires.
 */
import type { Clock, TimerHandle } from '../clock.js';

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): Promise<void>;
  /** Timers set and not yet fired or cleared. */
  pending(): number;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** One macrotask turn: pending promise callbacks and I/O callbacks run first. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function createManualClock(start = 0): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Set<Timer>();
  const next = (limit: number): Timer | undefined => {
    let best: Timer | undefined;
    for (const t of timers) {
      if (t.at > limit) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  };
  return {
    now: () => now,
    setTimeout(callback, ms): TimerHandle {
      const timer = { at: now + Math.max(0, ms), seq: seq++, callback };
      timers.add(timer);
      return timer;
    },
    clearTimeout(handle) {
      timers.delete(handle as Timer);
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (let t = next(target); t !== undefined; t = next(target)) {
        timers.delete(t);
        now = t.at;
        t.callback();
        await settle();
        await settle();
      }
      now = target;
      await settle();
    },
    pending: () => timers.size,
  };
}
