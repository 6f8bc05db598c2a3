/**
 * When work that failed or is not due yet runs next: the capped exponential backoff of
 * the durable queues, and the one timer a queue keeps for its earliest due item (set
 * again only when that time changes).
 */
import type { Clock, TimerHandle } from './clock.js';

export interface BackoffPolicy {
  /** Delay after the first failure (ms). */
  readonly initialMs: number;
  /** Upper bound of any delay (ms). */
  readonly maxMs: number;
  /** Growth of the delay per failed attempt. */
  readonly multiplier: number;
  /** Fraction of each delay taken off at random (0..1), so that retries spread out. */
  readonly jitter: number;
}

/** The delay after `attempts` failed attempts; `random` is uniform in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempts: number, random: () => number): number {
  const exponential = policy.initialMs * policy.multiplier ** Math.max(0, attempts - 1);
  return Math.round(Math.min(policy.maxMs, exponential) * (1 - policy.jitter * random()));
}

export interface DueTimer {
  /** Fires `onDue` at `at` (clock time), replacing the previous time; undefined disarms. */
  set(at: number | undefined): void;
  /** The time it fires at, if armed. */
  readonly at: number | undefined;
}

export function createDueTimer(clock: Clock, onDue: () => void): DueTimer {
  let armed: { at: number; handle: TimerHandle } | undefined;
  return {
    set(at) {
      if (armed?.at === at) return;
      if (armed !== undefined) clock.clearTimeout(armed.handle);
      armed = undefined;
      if (at === undefined) return;
      armed = {
        at,
        handle: clock.setTimeout(
          () => {
            armed = undefined;
            onDue();
          },
          Math.max(0, at - clock.now()),
        ),
      };
    },
    get at() {
      return armed?.at;
    },
  };
}
