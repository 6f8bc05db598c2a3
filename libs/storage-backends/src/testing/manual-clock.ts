/**
 * A BackendClock that only moves when a test says so: `advance(ms)` fires due timers
 * in order, letting promise callbacks and stream I/O settle after each one.
 */
import type { BackendClock } from '../backend-clock.js';

export interface ManualClock extends BackendClock {
  advance(ms: number): Promise<void>;
  /** Timers not yet fired. */
  pending(): number;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function createManualClock(): ManualClock {
  let now = 0;
  let seq = 0;
  const timers = new Set<Timer>();
  const next = (limit: number): Timer | undefined => {
    let best: Timer | undefined;
    for (const t of timers)
      if (t.at <= limit && (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)))
        best = t;
    return best;
  };
  return {
    now: () => now,
    setTimeout(callback, ms) {
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
