/**
 * Coalesces a node's announces into batches: announces made within `windowMs` of the first
 * one queued are sent together through the ring client's `announceMany`, one request per
 * tracker. The scheduler's timers put all of a node's blobs on one tick of the interval
 * (scheduler/policy/announce-timers.ts), so in steady state each tracker gets one request per
 * node and interval, whatever the number of blobs; a pull's first announces, made at once
 * for each new layer, share a request too.
 *
 * Each announce still settles on its own: a blob whose tracker failed is retried by the
 * scheduler, the others are not held back.
 */
import type { Timers } from '@kraken/foundation';
import type { Metrics } from '@kraken/service-kit';
import type { AnnounceRequest, AnnounceResponse } from './announce-protocol.js';
import type { AnnounceOutcome } from './tracker-ring-client.js';
import { SwarmStoppedError } from '../scheduler/scheduler-errors.js';

export interface AnnounceBatcherOptions {
  /** A TrackerRingClient fits. */
  readonly client: {
    announceMany(requests: readonly AnnounceRequest[]): Promise<AnnounceOutcome[]>;
  };
  /** How long the first queued announce waits for others (ms, default 10). */
  readonly windowMs?: number;
  readonly timers: Timers;
  /**
   * Registers `tracker_announces_total{result}` (announces settled, ok or error) and
   * `tracker_announce_batch_blobs` (blobs per flush) on it.
   */
  readonly metrics?: Metrics | undefined;
}

export interface AnnounceBatcher {
  /** Queues the announce; settles with its own answer or error. */
  announce(request: AnnounceRequest): Promise<AnnounceResponse>;
  /** Announces queued now: how many. */
  readonly queued: number;
  /** Rejects what is queued (SwarmStoppedError); later announces reject at once. */
  close(): void;
}

interface Waiter {
  request: AnnounceRequest;
  settlers: { resolve: (answer: AnnounceResponse) => void; reject: (error: unknown) => void }[];
}

export function createAnnounceBatcher(options: AnnounceBatcherOptions): AnnounceBatcher {
  const windowMs = options.windowMs ?? 10;
  const { timers, client } = options;
  /** Queued announces by blob: a blob announced twice in a window is sent once. */
  let queue = new Map<string, Waiter>();
  let timer: unknown;
  let closed = false;
  const settled = options.metrics?.counter(
    'tracker_announces_total',
    'Announces to the tracker ring settled, by result (ok, error).',
    ['result'] as const,
  );
  const settledOk = settled?.labels({ result: 'ok' });
  const settledError = settled?.labels({ result: 'error' });
  const sizes = options.metrics?.histogram(
    'tracker_announce_batch_blobs',
    'Blobs announced together, per flush of the announce batcher (one request per tracker).',
    { buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
  );

  const flush = () => {
    timer = undefined;
    const waiters = [...queue.values()];
    queue = new Map();
    sizes?.observe(waiters.length);
    client.announceMany(waiters.map((w) => w.request)).then(
      (outcomes) => {
        waiters.forEach((waiter, i) => {
          const outcome = outcomes[i] as AnnounceOutcome;
          (outcome.ok ? settledOk : settledError)?.inc();
          for (const settler of waiter.settlers) {
            if (outcome.ok) settler.resolve(outcome.value);
            else settler.reject(outcome.error);
          }
        });
      },
      (error: unknown) => {
        settledError?.inc(waiters.length);
        for (const waiter of waiters) for (const settler of waiter.settlers) settler.reject(error);
      },
    );
  };

  return {
    announce(request) {
      if (closed) return Promise.reject(new SwarmStoppedError(request.blob, 'closed'));
      return new Promise<AnnounceResponse>((resolve, reject) => {
        const waiter = queue.get(request.blob);
        // The later announce is the newer news (a blob that just completed).
        if (waiter !== undefined) {
          waiter.request = request;
          waiter.settlers.push({ resolve, reject });
          return;
        }
        queue.set(request.blob, { request, settlers: [{ resolve, reject }] });
        timer ??= timers.setTimeout(flush, windowMs);
      });
    },
    get queued() {
      return queue.size;
    },
    close() {
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      for (const waiter of queue.values()) {
        for (const settler of waiter.settlers)
          settler.reject(new SwarmStoppedError(waiter.request.blob, 'closed'));
      }
      queue.clear();
    },
  };
}
