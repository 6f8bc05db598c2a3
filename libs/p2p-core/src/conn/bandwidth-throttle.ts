/**
 * A pass-through stream that lets bytes through only as fast as a shared token bucket
 * allows. Chunks are cut into slices no larger than the bucket's burst (and 64 KiB),
 * so a large piece flows out smoothly instead of in one burst after a long pause, and
 * waiting in the bucket is what applies backpressure to the writer.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { TokenBucket } from './token-bucket.js';

const MAX_SLICE = 64 * 1024;

export interface ThrottleOptions {
  /** Aborting fails the stream, including while it waits for tokens. */
  readonly signal?: AbortSignal | undefined;
}

/** Bytes through the returned Transform cost one token each from `bucket`. */
export function createThrottle(
  bucket: Pick<TokenBucket, 'unlimited' | 'burst' | 'tryTake' | 'take'>,
  options: ThrottleOptions = {},
): Transform {
  const slice = Math.max(1, Math.min(MAX_SLICE, Math.floor(bucket.burst) || MAX_SLICE));
  // Ends the pending take when the stream is destroyed, so no waiter outlives it.
  const lifetime = new AbortController();
  const signal =
    options.signal === undefined ? lifetime.signal : AbortSignal.any([lifetime.signal, options.signal]);

  async function pass(stream: Transform, chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.byteLength; offset += slice) {
      const part = chunk.subarray(offset, offset + slice);
      if (!bucket.tryTake(part.byteLength)) await bucket.take(part.byteLength, { signal });
      stream.push(part);
    }
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (bucket.unlimited) return callback(null, chunk);
      pass(this, chunk).then(
        () => callback(),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
    destroy(err, callback) {
      lifetime.abort(err ?? new Error('throttled stream destroyed'));
      callback(err);
    },
  });
}
