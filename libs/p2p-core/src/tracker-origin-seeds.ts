/**
 * Origins in the tracker's swarms. Origins hold every blob but seed on demand, so when
 * a peer announces a blob whose swarm has no origin, the tracker asks the origins that
 * own it to seed it and adds the ones that agreed to the swarm. One request per blob
 * is in flight at a time, a failed or empty answer is not retried for `retryMs`, and
 * an announce waits at most `waitMs` for the answer: the peer meets the origins on its
 * next announce at the latest.
 */
import type { Digest } from '@kraken/oci-content';
import { LRUCache } from 'lru-cache';
import type { SwarmKey } from './tracker-peer-store.js';

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
  /** Monotonic milliseconds. */
  readonly clock?: (() => number) | undefined;
  readonly onError?: ((digest: Digest, err: unknown) => void) | undefined;
}

export interface OriginSeeds {
  /** Makes sure the blob's origins are asked; resolves when they answered or `waitMs` passed. */
  ensure(digest: Digest, clusterId: string | undefined): Promise<void>;
}

export function createOriginSeeds(options: OriginSeedsOptions): OriginSeeds {
  const waitMs = options.waitMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const retryMs = options.retryMs ?? 5_000;
  const clock = options.clock ?? (() => performance.now());
  const inflight = new Map<string, Promise<void>>();
  const failedAt = new LRUCache<string, number>({ max: 10_000 });

  function start(digest: Digest, key: SwarmKey, id: string): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    return options
      .request(digest, signal)
      .then(
        (origins) => {
          if (origins.length === 0) failedAt.set(id, clock());
          else options.onSeeding(key, origins);
        },
        (err: unknown) => {
          failedAt.set(id, clock());
          options.onError?.(digest, err);
        },
      )
      .finally(() => inflight.delete(id));
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
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      });
      return Promise.race([job, waited]).finally(() => clearTimeout(timer));
    },
  };
}
