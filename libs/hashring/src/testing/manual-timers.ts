/**
 * A manual clock for the ring's background loops: timers fire only when a test
 * advances time, and each firing is followed by a macrotask turn so that the
 * promise chains it starts (refresh, probe round, reschedule) can settle.
 */
import type { TimerHandle, Timers } from '../timers.js';

export interface ManualTimers extends Timers {
  now(): number;
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): Promise<void>;
  pending(): number;
}

interface Entry {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function createManualTimers(): ManualTimers {
  let now = 0;
  let nextId = 1;
  const entries = new Map<number, Entry>();
  return {
    now: () => now,
    pending: () => entries.size,
    setTimeout(callback, ms): TimerHandle {
      const id = nextId++;
      entries.set(id, { id, due: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      entries.delete(handle as number);
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        let next: Entry | undefined;
        for (const entry of entries.values()) {
          if (entry.due <= target && (next === undefined || entry.due < next.due)) next = entry;
        }
        if (next === undefined) break;
        entries.delete(next.id);
        now = next.due;
        next.callback();
        await settle();
        await settle();
      }
      now = target;
    },
  };
}
