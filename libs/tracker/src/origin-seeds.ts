/**
 * Origins in the tracker's swarms. Origins hold every blob but seed on demand, so when
 * a peer announces a blob whose swarm has no origin, the tracker asks the origins that
 * own it to seed it and adds the ones that agreed to the swarm. One request per blob
 * is in flight at a time, a failed or empty answer is not retried for `retryMs`, and
 * an announce waits at most `waitMs` for the answer: the peer meets the origins on its
 * next announce at the latest.
 */
import { systemClock, type Clock } from '@kraken/foundation';
import type { Digest } from '@kraken/oci-content';
import { LRUCache } from 'lru-cache';
import type { SwarmKey } from './peer-store.js';

/** An origin that agreed to seed a blob, with the address peers dial. */
export interface SeedingOrigin {
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
}

export interface OriginSeedsOptions {
  /** Asks the blob's origins to seed it; resolves with those that now do. */
  readonly request: (digest: Digest, signal: AbortSignal) => Promise<readonly SeedingOrigin[]>;
  /** Receives the origins of a successful request (the tracker adds them to the swarm). */
  readonly onSeeding: (key: SwarmKey, origins: readonly SeedingOrigin[]) => void;
  /** How long an announce waits for the origins' answer (ms, default 2 s). */
  readonly waitMs?: number | undefined;
  /** How long a request may take in all (ms, default 60 s: the origin may hash the blob first). */
  readonly timeoutMs?: number | undefined;
  /** No new request for a blob this soon after a failed or empty one (ms, default 5 s). */
  readonly retryMs?: number | undefined;
  /** Monotonic milliseconds (default `timers.now`). */
  readonly clock?: (() => number) | undefined;
  /** The wait and the request timeout run on these (default: real, unref'd timers). */
  readonly timers?: Clock | undefined;
  /** A request failed or timed out (not retried for `retryMs`). */
  readonly onError?: ((digest: Digest, err: unknown) => void) | undefined;
  /** A request answered that no origin seeds the blob (not retried for `retryMs`). */
  readonly onEmpty?: ((digest: Digest) => void) | undefined;
}

export interface OriginSeeds {
  /** Makes sure the blob's origins are asked; resolves when they answered or `waitMs` passed. */
  ensure(digest: Digest, clusterId: string | undefined): Promise<void>;
}

export function createOriginSeeds(options: OriginSeedsOptions): OriginSeeds {
  const waitMs = options.waitMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const retryMs = options.retryMs ?? 5_000;
  const timers = options.timers ?? systemClock;
  const clock = options.clock ?? (() => timers.now());
  const inflight = new Map<string, Promise<void>>();
  const failedAt = new LRUCache<string, number>({ max: 10_000 });

  function start(digest: Digest, key: SwarmKey, id: string): Promise<void> {
    const controller = new AbortController();
    const timeout = timers.setTimeout(
      () => controller.abort(new Error(`origins did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    // A request that ignores its signal still ends the wait for it at the timeout.
    const aborted = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
        once: true,
      });
    });
    return Promise.race([options.request(digest, controller.signal), aborted])
      .then(
        (origins) => {
          if (origins.length === 0) {
            failedAt.set(id, clock());
            options.onEmpty?.(digest);
          } else {
            failedAt.delete(id);
            options.onSeeding(key, origins);
          }
        },
        (err: unknown) => {
          failedAt.set(id, clock());
          options.onError?.(digest, err);
        },
      )
      .finally(() => {
        timers.clearTimeout(timeout);
        inflight.delete(id);
      });
  }

  return {
    ensure(digest, clusterId) {
      const id = `${clusterId ?? ''} ${digest.value}`;
      let job = inflight.get(id);
      if (job === undefined) {
        const failed = failedAt.get(id);
        if (failed !== undefined && clock() - failed < retryMs) return Promise.resolve();
        job = start(digest, { blob: digest.value, clusterId }, id);
        inflight.set(id, job);
      }
      let timer: unknown;
      const waited = new Promise<void>((resolve) => {
        timer = timers.setTimeout(resolve, waitMs);
      });
      return Promise.race([job, waited]).finally(() => timers.clearTimeout(timer));
    },
  };
}
