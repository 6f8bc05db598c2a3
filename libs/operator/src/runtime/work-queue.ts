/**
 * The work queue of a controller: keys (`namespace/name`) waiting to be reconciled,
 * and the workers that reconcile them.
 * - A key is queued at most once: adding a queued key does nothing.
 * - A key is never processed twice at once: a key added while it is processed waits
 *   and runs once more after.
 * - At most `concurrency` keys are processed at a time.
 * - A failed key is retried after a per-key exponential backoff (base, doubled per
 *   failure, capped), reset by its next success; a success may ask to run again after
 *   a delay (`requeueAfterMs`). Either delay is superseded when the key is processed
 *   earlier (an event arrived): the latest outcome decides the next run.
 * The queue holds each distinct key once, so its size is bounded by the number of
 * objects the controller watches. Time is the injected clock's.
 */
import { backoffDelay, createDueTimer, type BackoffPolicy, type Clock } from '@kraken/foundation';
import type { RuntimeMetrics } from './runtime-metrics.js';

export interface ProcessOutcome {
  /** Run the key again after this many milliseconds, even if nothing changes. */
  readonly requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  /** The controller's name: the metrics label. */
  readonly name: string;
  readonly clock: Clock;
  /** Keys processed at the same time. */
  readonly concurrency: number;
  /** Delay before the first retry of a failed key (ms). */
  readonly backoffBaseMs: number;
  /** Upper bound of a retry delay (ms). */
  readonly backoffMaxMs: number;
  /** Reconciles one key; a rejection schedules a retry with backoff. */
  readonly process: (key: string, signal: AbortSignal) => Promise<ProcessOutcome | void>;
  /** Called with each rejection of `process` (for logging); the retry is scheduled anyway. */
  readonly onError?: (key: string, err: unknown) => void;
  readonly metrics?: RuntimeMetrics;
  /** Closes the queue when aborted. */
  readonly signal?: AbortSignal;
}

export interface WorkQueue {
  /** Queues `key` to run as soon as a worker is free. */
  add(key: string): void;
  /** Queues `key` to run after `ms` (an earlier pending time for the key wins). */
  addAfter(key: string, ms: number): void;
  /** Starts the workers; keys added before wait until then. Idempotent. */
  start(): void;
  /** Stops taking keys, aborts the signal of running ones and waits for them. Idempotent. */
  close(): Promise<void>;
  /** Keys waiting to run now. */
  readonly depth: number;
  /** Keys being processed. */
  readonly running: number;
  /** Failures of `key` since its last success. */
  failures(key: string): number;
}

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const { clock, concurrency } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be >= 1');
  const policy: BackoffPolicy = {
    initialMs: options.backoffBaseMs,
    maxMs: options.backoffMaxMs,
    multiplier: 2,
    jitter: 0,
  };
  const ready: string[] = [];
  /** Keys waiting (in `ready`, or behind their own running instance). */
  const queued = new Set<string>();
  const running = new Map<string, Promise<void>>();
  /** key -> clock time it falls due. An operator watches hundreds of objects, not millions. */
  const delayed = new Map<string, number>();
  const failures = new Map<string, number>();
  const abort = new AbortController();
  const dueTimer = createDueTimer(clock, onDue);
  let started = false;
  let closing: Promise<void> | undefined;

  const gauge = () => options.metrics?.queueDepth.set({ controller: options.name }, ready.length);

  function add(key: string): void {
    if (closing !== undefined || queued.has(key)) return;
    queued.add(key);
    if (!running.has(key)) ready.push(key);
    gauge();
    pump();
  }

  function addAfter(key: string, ms: number): void {
    if (closing !== undefined) return;
    if (ms <= 0) return add(key);
    const at = clock.now() + ms;
    const current = delayed.get(key);
    if (current !== undefined && current <= at) return;
    delayed.set(key, at);
    armTimer();
  }

  function armTimer(): void {
    let earliest: number | undefined;
    for (const at of delayed.values()) if (earliest === undefined || at < earliest) earliest = at;
    dueTimer.set(earliest);
  }

  function onDue(): void {
    const now = clock.now();
    for (const [key, at] of delayed) {
      if (at > now) continue;
      delayed.delete(key);
      add(key);
    }
    armTimer();
  }

  function pump(): void {
    while (started && closing === undefined && running.size < concurrency && ready.length > 0) {
      const key = ready.shift() as string;
      queued.delete(key);
      if (delayed.delete(key)) armTimer();
      running.set(key, run(key));
    }
    gauge();
  }

  async function run(key: string): Promise<void> {
    let outcome: ProcessOutcome | void = undefined;
    let failed = false;
    try {
      outcome = await options.process(key, abort.signal);
    } catch (err) {
      failed = true;
      if (closing === undefined) options.onError?.(key, err);
    }
    running.delete(key);
    if (closing !== undefined) return;
    if (failed) {
      const n = (failures.get(key) ?? 0) + 1;
      failures.set(key, n);
      addAfter(
        key,
        backoffDelay(policy, n, () => 0),
      );
    } else {
      failures.delete(key);
      if (outcome?.requeueAfterMs !== undefined) addAfter(key, outcome.requeueAfterMs);
    }
    if (queued.has(key)) ready.push(key);
    pump();
  }

  const queue: WorkQueue = {
    add,
    addAfter,
    start() {
      if (started) return;
      started = true;
      pump();
    },
    close() {
      closing ??= (async () => {
        dueTimer.set(undefined);
        delayed.clear();
        ready.length = 0;
        queued.clear();
        gauge();
        abort.abort(new Error(`work queue ${options.name} closed`));
        await Promise.allSettled([...running.values()]);
      })();
      return closing;
    },
    get depth() {
      return ready.length;
    },
    get running() {
      return running.size;
    },
    failures: (key) => failures.get(key) ?? 0,
  };

  if (options.signal?.aborted) void queue.close();
  else options.signal?.addEventListener('abort', () => void queue.close(), { once: true });
  return queue;
}
