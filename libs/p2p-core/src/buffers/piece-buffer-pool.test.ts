import { describe, expect, it } from 'vitest';
import { createPieceBufferPool } from './piece-buffer-pool.js';

const PIECE = 128 * 1024;

describe('createPieceBufferPool', () => {
  it('hands a buffer given back out again, by size, through any view of it', () => {
    const pool = createPieceBufferPool({ maxPooledBytes: 4 * PIECE });
    const first = pool.take(PIECE + 36);
    expect(first.byteLength).toBe(PIECE + 36);
    // The decoder's payload is a view past the frame's header: it names the same buffer.
    pool.give(first.subarray(36));
    expect(pool.pooledBytes).toBe(PIECE + 36);
    expect(pool.take(PIECE).buffer).not.toBe(first.buffer);
    const again = pool.take(PIECE + 36);
    expect(again.buffer).toBe(first.buffer);
    expect(again.byteLength).toBe(PIECE + 36);
    expect(pool.pooledBytes).toBe(0);
  });

  it('ignores buffers it did not hand out, and a second give of one', () => {
    const pool = createPieceBufferPool({ maxPooledBytes: 4 * PIECE });
    pool.give(Buffer.alloc(PIECE));
    expect(pool.pooledBytes).toBe(0);
    const taken = pool.take(PIECE);
    pool.give(taken);
    pool.give(taken);
    expect(pool.pooledBytes).toBe(PIECE);
    const a = pool.take(PIECE);
    const b = pool.take(PIECE);
    // Never the same buffer twice: a double give must not make two owners.
    expect(a.buffer).not.toBe(b.buffer);
  });

  it('keeps at most maxPooledBytes and leaves small buffers to the allocator', () => {
    const pool = createPieceBufferPool({ maxPooledBytes: 2 * PIECE });
    const taken = [pool.take(PIECE), pool.take(PIECE), pool.take(PIECE)];
    for (const buffer of taken) pool.give(buffer);
    expect(pool.pooledBytes).toBe(2 * PIECE);
    pool.give(pool.take(100));
    expect(pool.pooledBytes).toBe(2 * PIECE);
    const none = createPieceBufferPool({ maxPooledBytes: 0 });
    none.give(none.take(PIECE));
    expect(none.pooledBytes).toBe(0);
  });
});
