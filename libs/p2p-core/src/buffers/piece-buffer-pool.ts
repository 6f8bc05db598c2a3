/**
 * Reused piece buffers for the data path. Every byte a peer moves passes through a
 * piece-sized buffer several times: assembled from the socket, read back from disk for an
 * upload, read for a client streaming the blob. Allocating those fresh makes external
 * memory churn at wire speed, and V8 answers with a full garbage collection every few tens
 * of megabytes: on loopback that cost more CPU than hashing every byte. The pool keeps
 * released buffers, one free list per size (a blob's pieces share one size, the frame
 * bodies another), up to a bound in bytes.
 *
 * Ownership is explicit and one-way: `take` hands a buffer out, and whoever holds it last
 * gives it back once nothing references it any more (a write has completed, a socket has
 * flushed it). Giving back is optional (a buffer never returned is only garbage), but a
 * buffer given back early would be overwritten while in use, so only the last holder
 * returns it, and never after handing it to anything that may still read it.
 */

export interface PieceBufferPool {
  /** A buffer of exactly `size` bytes, reused when one of that size is free. Its content is arbitrary. */
  take(size: number): Buffer;
  /**
   * Takes back a buffer (or any view of one) that this pool handed out; anything else,
   * and a buffer already given back, is ignored.
   */
  give(buffer: Uint8Array): void;
  /** Bytes held in free buffers. */
  readonly pooledBytes: number;
}

/** Below this a buffer is not worth pooling: the allocator's own pool serves it. */
const MIN_POOLED_SIZE = 16 * 1024;

export function createPieceBufferPool(options: { readonly maxPooledBytes: number }): PieceBufferPool {
  const { maxPooledBytes } = options;
  const free = new Map<number, Buffer[]>();
  // Every ArrayBuffer this pool allocated, and those sitting in a free list now: a view of
  // a foreign buffer, or a second give of the same one, must never reach a free list.
  const owned = new WeakSet<ArrayBufferLike>();
  const idle = new WeakSet<ArrayBufferLike>();
  let pooledBytes = 0;

  return {
    take(size) {
      const buffer = free.get(size)?.pop();
      if (buffer !== undefined) {
        pooledBytes -= size;
        idle.delete(buffer.buffer);
        return buffer;
      }
      if (size < MIN_POOLED_SIZE) return Buffer.allocUnsafe(size);
      // Its own ArrayBuffer, whole: a view of it names exactly this buffer.
      const fresh = Buffer.allocUnsafeSlow(size);
      owned.add(fresh.buffer);
      return fresh;
    },
    give(view) {
      const backing = view.buffer;
      if (!owned.has(backing) || idle.has(backing)) return;
      const size = backing.byteLength;
      if (pooledBytes + size > maxPooledBytes) return;
      let list = free.get(size);
      if (list === undefined) free.set(size, (list = []));
      list.push(Buffer.from(backing, 0, size));
      idle.add(backing);
      pooledBytes += size;
    },
    get pooledBytes() {
      return pooledBytes;
    },
  };
}
