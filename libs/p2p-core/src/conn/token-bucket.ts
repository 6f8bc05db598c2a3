/**
 * Token bucket limiting bandwidth in bytes per second, one per direction (ingress,
 * egress) per agent and shared by every connection. Waiters are served strictly in
 * arrival order so that one busy connection cannot starve the others, and the wait
 * queue is bounded: a caller past the bound is told so instead of piling up. Time and
 * timers are injected so tests drive the bucket with a fake clock.
 */
import { systemClock, type Clock } from '@kraken/foundation';
import { TokenBucketClosedError, TokenQueueFullError } from '../errors.js';

export interface TokenBucketOptions {
  /** Sustained rate in bytes per second; 0 or undefined means unlimited. */
  readonly rate?: number | undefined;
  /** Largest amount available at once, in bytes; defaults to one second of `rate`. */
  readonly burst?: number | undefined;
  /** Maximum number of waiting `take` calls; defaults to 1024. */
  readonly maxQueue?: number | undefined;
  readonly clock?: Clock | undefined;
}

export interface TakeOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface TokenBucket {
  /** True when no rate is set: every take succeeds at once. */
  readonly unlimited: boolean;
  readonly rate: number;
  readonly burst: number;
  /** Number of `take` calls waiting. */
  readonly waiting: number;
  /**
   * Takes `n` tokens without waiting; false (taking nothing) when they are not there
   * or others are already waiting, since jumping the queue would break its fairness.
   */
  tryTake(n: number): boolean;
  /**
   * Resolves once `n` tokens were taken: at once when they are available, otherwise
   * in arrival order as they accumulate. A request larger than the burst is granted
   * when the bucket is full and leaves it in debt, so it costs its full time.
   * Rejects with TokenQueueFullError past the queue bound, with the signal's reason on
   * abort and with TokenBucketClosedError after close().
   */
  take(n: number, options?: TakeOptions): Promise<void>;
  /** Rejects every waiter and stops the timer; idempotent. */
  close(): void;
}

const DEFAULT_MAX_QUEUE = 1024;

interface Waiter {
  readonly n: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export function createTokenBucket(options: TokenBucketOptions = {}): TokenBucket {
  const rate = options.rate ?? 0;
  if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`token bucket rate must be >= 0, got ${rate}`);
  const burst = options.burst ?? rate;
  if (!Number.isFinite(burst) || burst < 0 || (rate > 0 && burst < 1)) {
    throw new RangeError(`token bucket burst must be >= 1, got ${burst}`);
  }
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  if (!Number.isInteger(maxQueue) || maxQueue < 0) {
    throw new RangeError(`token bucket maxQueue must be a non-negative integer, got ${maxQueue}`);
  }
  const clock = options.clock ?? systemClock;
  const unlimited = rate === 0;

  let tokens = burst;
  let last = clock.now();
  const queue: Waiter[] = [];
  let head = 0; // index of the first live waiter; the array is compacted lazily
  let timer: unknown;
  let closed = false;

  function refill(): void {
    const now = clock.now();
    if (now > last) {
      tokens = Math.min(burst, tokens + ((now - last) * rate) / 1000);
      last = now;
    }
  }

  // What a request needs before it may go: all of it, or a full bucket when it is
  // larger than the bucket can ever hold.
  function needed(n: number): number {
    return Math.min(n, burst);
  }

  function pending(): number {
    return queue.length - head;
  }

  function dequeue(): Waiter | undefined {
    const waiter = queue[head];
    if (waiter === undefined) return undefined;
    head++;
    if (head > 64 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    return waiter;
  }

  function settle(waiter: Waiter): void {
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  function drain(): void {
    if (timer !== undefined) {
      clock.clearTimeout(timer);
      timer = undefined;
    }
    refill();
    for (let first = queue[head]; first !== undefined; first = queue[head]) {
      if (tokens < needed(first.n)) {
        const ms = Math.ceil(((needed(first.n) - tokens) * 1000) / rate);
        timer = clock.setTimeout(
          () => {
            timer = undefined;
            drain();
          },
          Math.max(1, ms),
        );
        return;
      }
      tokens -= first.n;
      dequeue();
      settle(first);
      first.resolve();
    }
  }

  function validate(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`token count must be a non-negative integer, got ${n}`);
  }

  function tryTake(n: number): boolean {
    validate(n);
    if (closed) return false;
    if (unlimited || n === 0) return true;
    if (pending() > 0) return false;
    refill();
    if (tokens < needed(n)) return false;
    tokens -= n;
    return true;
  }

  return {
    unlimited,
    rate,
    burst,
    get waiting() {
      return pending();
    },
    tryTake,

    take(n, takeOptions = {}) {
      try {
        validate(n);
      } catch (err) {
        return Promise.reject(err);
      }
      const { signal } = takeOptions;
      if (closed) return Promise.reject(new TokenBucketClosedError());
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (tryTake(n)) return Promise.resolve();
      if (pending() >= maxQueue) return Promise.reject(new TokenQueueFullError(maxQueue));
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          n,
          resolve,
          reject,
          signal,
          onAbort: () => {
            const at = queue.indexOf(waiter, head);
            if (at < 0) return;
            queue.splice(at, 1);
            reject(signal?.reason);
            // The head leaving may let the next waiter (perhaps smaller) go now.
            if (at === head) drain();
          },
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        queue.push(waiter);
        if (pending() === 1) drain();
      });
    },

    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      const error = new TokenBucketClosedError();
      for (let waiter = dequeue(); waiter !== undefined; waiter = dequeue()) {
        settle(waiter);
        waiter.reject(error);
      }
    },
  };
}
