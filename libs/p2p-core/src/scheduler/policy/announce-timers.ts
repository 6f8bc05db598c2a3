/**
 * When each blob announces to the tracker next: a timer per blob with jitter, so that
 * thousands of agents that started a pull together do not announce in lockstep (and
 * a blob never waits behind a round-robin of every other blob, as Kraken's does).
 */
import type { Timers } from '@kraken/foundation';
export interface AnnounceTimerOptions {
  /** Base interval between announces of one blob (ms); the tracker may change it. */
  readonly intervalMs: number;
  /** Fraction of the interval added or removed at random, e.g. 0.2 for ±20%. */
  readonly jitter?: number;
  readonly random?: () => number;
  readonly timers: Timers;
  /** Called when a blob is due; announce, then call `schedule` again. */
  readonly onDue: (blob: string) => void;
}

export interface AnnounceTimers {
  /** (Re)schedules `blob`; the first announce of a new download passes `immediately`. */
  schedule(blob: string, options?: { immediately?: boolean; intervalMs?: number }): void;
  cancel(blob: string): void;
  readonly size: number;
  close(): void;
}

export function createAnnounceTimers(options: AnnounceTimerOptions): AnnounceTimers {
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const handles = new Map<string, unknown>();

  const delay = (intervalMs: number) =>
    Math.max(0, Math.round(intervalMs * (1 + jitter * (2 * random() - 1))));

  return {
    schedule(blob, scheduleOptions = {}) {
      this.cancel(blob);
      const ms = scheduleOptions.immediately ? 0 : delay(scheduleOptions.intervalMs ?? options.intervalMs);
      handles.set(
        blob,
        options.timers.setTimeout(() => {
          handles.delete(blob);
          options.onDue(blob);
        }, ms),
      );
    },
    cancel(blob) {
      const handle = handles.get(blob);
      if (handle === undefined) return;
      options.timers.clearTimeout(handle);
      handles.delete(blob);
    },
    get size() {
      return handles.size;
    },
    close() {
      for (const handle of handles.values()) options.timers.clearTimeout(handle);
      handles.clear();
    },
  };
}
