/**
 * The timer and logging effects the ring's background loops use, injected so that
 * tests drive refreshes and health probes with a manual clock instead of sleeping.
 */

export type TimerHandle = unknown;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real timers, unref'd so that a ring's background loops never keep a process alive. */
export const systemTimers: Timers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** The narrow slice of a pino logger the ring writes to. */
export interface RingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const noopLogger: RingLogger = { info: () => {}, warn: () => {} };
