/**
 * Polling for a condition on real processes, the one wait a test cannot drive with a fake
 * clock. A timeout says what was awaited and what was seen last, so a failing test shows how
 * far the cluster got.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitOptions<T> {
  /** What is awaited, for the timeout's message: "StatefulSet web to have 3 ready replicas". */
  readonly what: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** Default 100 ms. */
  readonly intervalMs?: number;
  /** Whether the observed value is the awaited one; default: truthy. */
  readonly until?: (value: T) => boolean;
  /**
   * Checked before each probe: an error returned here ends the wait at once (a process the
   * condition depends on has died, say).
   */
  readonly failFast?: () => Promise<Error | undefined>;
  readonly signal?: AbortSignal;
}

/**
 * Calls `probe` until `until` accepts its value and returns that value. A probe that throws is
 * retried; its error message is the observation.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const until = options.until ?? ((value: T) => Boolean(value));
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    options.signal?.throwIfAborted();
    const fatal = await options.failFast?.();
    if (fatal !== undefined)
      throw new Error(`gave up waiting for ${options.what}: ${fatal.message}`, { cause: fatal });
    try {
      const value = await probe();
      if (until(value)) return value;
      last = describe(value);
    } catch (err) {
      last = `error: ${(err as Error).message}`;
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}; last observed: ${last}`);
    await sleep(options.intervalMs ?? 100, undefined, { signal: options.signal });
  }
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : inspect(value, { depth: 6, breakLength: Infinity });
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
