import { describe, expect, it } from 'vitest';
import { createPieceBufferPool } from '../buffers/piece-buffer-pool.js';
import { createRecentPieces } from './recent-pieces.js';

const PIECE = 32 * 1024;

function filled(pool: ReturnType<typeof createPieceBufferPool>, byte: number): Buffer {
  return pool.take(PIECE).fill(byte);
}

describe('createRecentPieces', () => {
  it('serves the pieces it holds as copies, and nothing else', () => {
    const pool = createPieceBufferPool({ maxPooledBytes: 16 * PIECE });
    const recent = createRecentPieces({ maxBytes: 4 * PIECE, buffers: pool });
    const piece = filled(pool, 7);
    recent.keep(3, piece);
    const into = Buffer.alloc(PIECE + 10);
    const copy = recent.copy(3, into);
    expect(copy?.buffer).toBe(into.buffer);
    expect(copy?.byteLength).toBe(PIECE);
    expect(copy?.every((b) => b === 7)).toBe(true);
    expect(recent.copy(3)?.equals(piece)).toBe(true);
    expect(recent.copy(4)).toBeUndefined();
    expect(recent.peek(3)).toBe(piece);
    // Too small a target is no hit.
    expect(recent.copy(3, Buffer.alloc(10))).toBeUndefined();
  });

  it('pushes the oldest pieces out past its bound, back into the pool', () => {
    const pool = createPieceBufferPool({ maxPooledBytes: 16 * PIECE });
    const recent = createRecentPieces({ maxBytes: 2 * PIECE, buffers: pool });
    recent.keep(0, filled(pool, 0));
    recent.keep(1, filled(pool, 1));
    expect(pool.pooledBytes).toBe(0);
    recent.keep(2, filled(pool, 2));
    expect(recent.copy(0)).toBeUndefined();
    expect(recent.copy(1)?.[0]).toBe(1);
    expect(recent.copy(2)?.[0]).toBe(2);
    expect(pool.pooledBytes).toBe(PIECE);
    // A piece kept again replaces its older copy.
    recent.keep(2, filled(pool, 9));
    expect(recent.copy(2)?.[0]).toBe(9);
    recent.clear();
    expect(recent.copy(1)).toBeUndefined();
    expect(pool.pooledBytes).toBe(3 * PIECE);
  });

  it('holds nothing with a bound of 0', () => {
    const pool = createPieceBufferPool({ maxPooledBytes: 16 * PIECE });
    const recent = createRecentPieces({ maxBytes: 0, buffers: pool });
    recent.keep(0, filled(pool, 1));
    expect(recent.copy(0)).toBeUndefined();
    expect(pool.pooledBytes).toBe(PIECE);
  });
});
