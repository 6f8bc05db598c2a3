/**
 * The wrapper every configured backend runs behind: bandwidth limits per direction,
 * per-operation timeouts and retries of transient failures, counted in its metrics
 * (resilience/resilience-metrics.ts).
 *
 * What is retried: stat, list, delete and the opening of a read (up to the stream).
 * Not retried:
 * - bytes already streaming: a broken read surfaces to the caller, who verifies the
 *   digest anyway and may ask again (with a range, to resume);
 * - writes: the interface hands over a Readable that cannot be replayed, and the
 *   origin's write-back already retries from its own durable queue with a fresh source;
 * - check: readiness reports the state now, it does not wait for it to improve.
 *
 * StorageBackend has no cancellation for stat/read/list/delete, so a timeout rejects
 * the caller's promise and abandons the attempt; a stream it still yields is destroyed.
 */
import type { Readable } from 'node:stream';
import { systemClock, type Clock, type Timers } from '@kraken/foundation';
import type { Metrics } from '@kraken/service-kit';
import { z } from 'zod';
import { backendRetrySchema, withRetries, type RetryEvent } from './backend-retry.js';
import { createTokenBucket, throttle, type TokenBucket } from './backend-throttle.js';
import { createResilienceMetrics, type ResilienceMetrics } from './resilience-metrics.js';
import { BackendTimeoutError, StorageUnavailableError } from '../errors.js';
import type { NamespaceAwareBackend, StorageBackend } from '../storage-backend.js';

export const backendResilienceSchema = z
  .object({
    bandwidth: z
      .object({
        readBytesPerSecond: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe(
            'Limit of bytes read from the backend per second, for all reads together; 0 = unlimited.',
          ),
        writeBytesPerSecond: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe(
            'Limit of bytes written to the backend per second, for all writes together; 0 = unlimited.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Token-bucket bandwidth limits; the burst is one second of rate.'),
    retry: backendRetrySchema.prefault({}),
    timeouts: z
      .object({
        operationMs: z
          .number()
          .int()
          .min(0)
          .default(30_000)
          .describe('Limit of one attempt of stat, list, delete or check, in milliseconds; 0 = none.'),
        firstByteMs: z
          .number()
          .int()
          .min(0)
          .default(30_000)
          .describe(
            'Limit of one attempt to open a read (connect and response headers), in milliseconds; 0 = none.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Per-attempt timeouts; a timed-out attempt counts as transient and is retried.'),
  })
  .strict()
  .describe('Bandwidth limits, retries and timeouts applied to a backend.');

export type BackendResilienceConfig = z.output<typeof backendResilienceSchema>;

export interface ResilientBackendOptions {
  readonly backend: StorageBackend;
  readonly config: BackendResilienceConfig;
  readonly clock?: Clock;
  /** Source of backoff jitter, in [0, 1). */
  readonly random?: () => number;
  /** Registers the retry and timeout counters on it; without it there are none. */
  readonly metrics?: Metrics;
  /** Whether those carry a `backend` label besides `operation` (default true). */
  readonly metricsByBackend?: boolean;
}

interface Shared {
  readonly config: BackendResilienceConfig;
  readonly clock: Clock;
  readonly random: () => number;
  readonly metrics: ResilienceMetrics;
  readonly readBucket: TokenBucket | undefined;
  readonly writeBucket: TokenBucket | undefined;
}

/**
 * Wraps `backend`. A namespace-aware backend stays namespace-aware, and the backends
 * it hands out share this wrapper's bandwidth budget.
 */
export function createResilientBackend(options: ResilientBackendOptions): StorageBackend {
  const clock = options.clock ?? systemClock;
  const { bandwidth } = options.config;
  const bucket = (rate: number) =>
    rate > 0 ? createTokenBucket({ bytesPerSecond: rate, clock }) : undefined;
  return wrap(options.backend, {
    config: options.config,
    clock,
    random: options.random ?? Math.random,
    metrics: createResilienceMetrics(options.metrics, { byBackend: options.metricsByBackend ?? true }),
    readBucket: bucket(bandwidth.readBytesPerSecond),
    writeBucket: bucket(bandwidth.writeBytesPerSecond),
  });
}

function wrap(backend: StorageBackend, shared: Shared): StorageBackend {
  const { config, clock, metrics } = shared;
  const name = backend.name;

  const retrying = <T>(operation: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> =>
    withRetries(
      {
        backend: name,
        operation,
        config: config.retry,
        clock,
        random: shared.random,
        onRetry: (e: RetryEvent) => metrics.retried(e.backend, e.operation),
      },
      () => withTimeout({ backend: name, operation, timeoutMs, clock, metrics }, attempt),
    );

  const wrapped: StorageBackend = {
    name,

    stat: (key) => retrying('stat', config.timeouts.operationMs, () => backend.stat(key)),

    async read(key, range) {
      const stream = await retrying('read', config.timeouts.firstByteMs, () => backend.read(key, range));
      return throttle(stream, shared.readBucket, clock);
    },

    write: (key, source, writeOptions) =>
      backend.write(key, throttle(source, shared.writeBucket, clock), writeOptions),

    list: (listOptions) => retrying('list', config.timeouts.operationMs, () => backend.list(listOptions)),

    delete: (key) => retrying('delete', config.timeouts.operationMs, () => backend.delete(key)),

    async check(signal) {
      // The inner check gets a signal that also fires on our timeout, so it stops working.
      const controller = new AbortController();
      const combined =
        signal === undefined ? controller.signal : AbortSignal.any([signal, controller.signal]);
      try {
        await withTimeout(
          {
            backend: name,
            operation: 'check',
            timeoutMs: config.timeouts.operationMs,
            clock,
            metrics,
            controller,
          },
          () => backend.check(combined),
        );
      } catch (err) {
        // Readiness reports must say which backend failed.
        throw err instanceof StorageUnavailableError ? err : new StorageUnavailableError(name, err);
      }
    },

    close: () => backend.close(),
  };

  const scoped = backend as Partial<NamespaceAwareBackend>;
  if (typeof scoped.forNamespace !== 'function') return wrapped;
  const forNamespace = scoped.forNamespace.bind(backend);
  const aware: NamespaceAwareBackend = {
    ...wrapped,
    forNamespace: (namespace) => wrap(forNamespace(namespace), shared),
  };
  return aware;
}

interface TimeoutOptions {
  readonly backend: string;
  readonly operation: string;
  readonly timeoutMs: number;
  readonly clock: Timers;
  readonly metrics: ResilienceMetrics;
  /** Aborted when the timeout fires. */
  readonly controller?: AbortController;
}

function withTimeout<T>(options: TimeoutOptions, attempt: () => Promise<T>): Promise<T> {
  const { timeoutMs, clock } = options;
  if (timeoutMs <= 0) return attempt();
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      const error = new BackendTimeoutError(options.backend, options.operation, timeoutMs);
      options.controller?.abort(error);
      options.metrics.timedOut(options.backend, options.operation);
      reject(error);
    }, timeoutMs);
    attempt().then(
      (value) => {
        clock.clearTimeout(timer);
        if (timedOut) abandon(value);
        else resolve(value);
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        if (!timedOut) reject(err as Error);
      },
    );
  });
}

/** A late result nobody will consume; a stream among them would hold a connection open. */
function abandon(value: unknown): void {
  const stream = value as Partial<Readable> | null;
  if (typeof stream?.destroy === 'function' && typeof stream.pipe === 'function') stream.destroy();
}
