/**
 * Retries of backend operations: exponential backoff with jitter, on transient
 * failures only. A failure is transient when it (or an error in its `cause` chain)
 * says so (`transient: true`: timeouts, 5xx/408/429 answers) or is a network error
 * (connection reset/refused, socket closed, DNS hiccup). Not found, invalid keys or
 * ranges, 4xx answers and auth failures are final: retrying cannot change them.
 */
import { sleep, type Timers } from '@kraken/foundation';
import { z } from 'zod';

export const backendRetrySchema = z
  .object({
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(4)
      .describe('Attempts per operation including the first; 1 disables retries.'),
    initialDelayMs: z
      .number()
      .int()
      .min(0)
      .default(100)
      .describe('Backoff before the first retry, in milliseconds.'),
    maxDelayMs: z
      .number()
      .int()
      .min(0)
      .default(5000)
      .describe('Upper bound of one backoff, in milliseconds.'),
    multiplier: z.number().min(1).max(10).default(2).describe('Growth of the backoff per attempt.'),
    jitter: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('Fraction of each backoff that is randomized, so that clients retrying together spread out.'),
  })
  .strict()
  .describe('Retries of transient failures (network errors, timeouts, 5xx, 429).');

export type BackendRetryConfig = z.output<typeof backendRetrySchema>;

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function isTransientError(err: unknown): boolean {
  // Depth-bounded: a cause chain is short, and a cyclic one must not hang us.
  let current: unknown = err;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as { transient?: unknown; code?: unknown; cause?: unknown };
    if (candidate.transient === true) return true;
    if (typeof candidate.code === 'string' && TRANSIENT_CODES.has(candidate.code)) return true;
    current = candidate.cause;
  }
  return false;
}

/** Backoff before retry number `retry` (1-based), jittered with `random` in [0, 1). */
export function backoffDelay(config: BackendRetryConfig, retry: number, random: () => number): number {
  const base = Math.min(config.maxDelayMs, config.initialDelayMs * config.multiplier ** (retry - 1));
  return Math.round(base * (1 - config.jitter) + base * config.jitter * random());
}

export interface RetryEvent {
  readonly backend: string;
  readonly operation: string;
  /** The attempt that failed (1-based); the next one starts after `delayMs`. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions {
  readonly backend: string;
  readonly operation: string;
  readonly config: BackendRetryConfig;
  readonly clock: Timers;
  readonly random: () => number;
  readonly onRetry?: (event: RetryEvent) => void;
}

/** Runs `attempt` until it succeeds, fails for good, or runs out of attempts. */
export async function withRetries<T>(options: RetryOptions, attempt: () => Promise<T>): Promise<T> {
  const { config } = options;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= config.maxAttempts || !isTransientError(err)) throw err;
      const delayMs = backoffDelay(config, n, options.random);
      options.onRetry?.({
        backend: options.backend,
        operation: options.operation,
        attempt: n,
        delayMs,
        error: err,
      });
      await sleep(options.clock, delayMs);
    }
  }
}
