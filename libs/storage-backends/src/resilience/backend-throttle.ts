/**
 * Bandwidth limits of one backend: a token bucket per direction shared by every stream
 * of that backend. A chunk reserves its bytes at once and waits out any debt, so chunks
 * larger than the burst still pass and concurrent streams are served in arrival order.
 * The burst is one second of rate: short bursts smooth out, sustained rate is the limit.
 */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Clock, TimerHandle, Timers } from '@kraken/foundation';

export interface TokenBucket {
  /** Takes `bytes` tokens; returns how many ms the caller must wait before using them. */
  reserve(bytes: number): number;
}

export function createTokenBucket(options: {
  bytesPerSecond: number;
  clock: Pick<Clock, 'now'>;
}): TokenBucket {
  const { bytesPerSecond: rate, clock } = options;
  const burst = rate;
  let tokens = burst;
  let refilledAt = clock.now();
  return {
    reserve(bytes) {
      const now = clock.now();
      tokens = Math.min(burst, tokens + ((now - refilledAt) * rate) / 1000);
      refilledAt = now;
      tokens -= bytes;
      return tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / rate);
    },
  };
}

/** Passes chunks through no faster than the bucket allows. */
class ThrottleStream extends Transform {
  private pending: TimerHandle | undefined;

  constructor(
    private readonly bucket: TokenBucket,
    private readonly clock: Timers,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const wait = this.bucket.reserve(chunk.length);
    if (wait <= 0) {
      callback(null, chunk);
      return;
    }
    this.pending = this.clock.setTimeout(() => {
      this.pending = undefined;
      callback(null, chunk);
    }, wait);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.pending !== undefined) this.clock.clearTimeout(this.pending);
    this.pending = undefined;
    callback(err);
  }
}

/**
 * `source` limited by `bucket` (or `source` itself without one). Destroying the result
 * destroys the source, and a source error surfaces on the result.
 */
export function throttle(source: Readable, bucket: TokenBucket | undefined, clock: Timers): Readable {
  if (bucket === undefined) return source;
  const limited = new ThrottleStream(bucket, clock);
  // Errors reach the caller through `limited`, which pipeline destroys with them.
  pipeline(source, limited, () => {});
  return limited;
}
