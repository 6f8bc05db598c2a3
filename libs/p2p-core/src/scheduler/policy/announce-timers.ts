/**
 * When each blob announces to the tracker next. A node's blobs announce together, on the
 * ticks of a grid of the interval whose phase is drawn at random per node: the blobs of
 * one agent meet in one tick, where the announce batcher (announce/announce-batcher.ts)
 * sends them to each tracker as one request, while thousands of agents that started a pull
 * together still spread over the interval. A new or just completed blob announces at once,
 * then joins the grid, half to one and a half intervals later. No blob waits behind a
 * round-robin of the others, as Kraken's do.
 */
import type { Clock } from '@kraken/foundation';
export interface AnnounceTimerOptions {
  /** Base interval between announces of one blob (ms); the tracker may change it. */
  readonly intervalMs: number;
  /** Draws the grid's phase; Math.random by default. */
  readonly random?: () => number;
  readonly timers: Clock;
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
  const random = options.random ?? Math.random;
  const { timers } = options;
  const phase = timers.now() + random() * options.intervalMs;
  const handles = new Map<string, unknown>();

  /** Time until the first tick at least half an interval away. */
  const untilTick = (intervalMs: number) => {
    const now = timers.now();
    const ticks = Math.ceil((now + intervalMs / 2 - phase) / intervalMs);
    return Math.max(0, Math.round(phase + ticks * intervalMs - now));
  };

  return {
    schedule(blob, scheduleOptions = {}) {
      this.cancel(blob);
      const ms = scheduleOptions.immediately
        ? 0
        : untilTick(scheduleOptions.intervalMs ?? options.intervalMs);
      handles.set(
        blob,
        timers.setTimeout(() => {
          handles.delete(blob);
          options.onDue(blob);
        }, ms),
      );
    },
    cancel(blob) {
      const handle = handles.get(blob);
      if (handle === undefined) return;
      timers.clearTimeout(handle);
      handles.delete(blob);
    },
    get size() {
      return handles.size;
    },
    close() {
      for (const handle of handles.values()) timers.clearTimeout(handle);
      handles.clear();
    },
  };
}
