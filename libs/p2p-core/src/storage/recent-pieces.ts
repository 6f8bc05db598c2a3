/**
 * The verified pieces a download received last, kept in memory after they are written.
 * Most reads of a piece come right after it arrived: neighbours ask for it once its HAVE
 * went out, a client streaming the blob waits for exactly that piece, and the whole-blob
 * digest takes it as soon as the pieces before it are in. Served from here, such a read
 * is one copy in memory instead of a read from disk through the thread pool. The buffers
 * are the connection's pooled ones, handed over once the piece is written; they go back
 * to the pool as newer pieces push them out, or when the partial blob closes. Readers
 * always copy, so no buffer is ever lent out.
 */
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';

export interface RecentPieces {
  /** Keeps piece `index` (verified and written); `bytes` belongs to this cache from now on. */
  keep(index: number, bytes: Uint8Array): void;
  /**
   * Piece `index` copied into `into` (at least its length; the result is a view of it),
   * or into a buffer of its own; undefined when the piece is not held.
   */
  copy(index: number, into?: Buffer): Buffer | undefined;
  /** The piece itself when held, for a caller that is done with it before it returns. */
  peek(index: number): Uint8Array | undefined;
  /** Gives every piece back to the pool. */
  clear(): void;
}

export function createRecentPieces(options: {
  /** Bytes of pieces held at most; 0 holds none. */
  readonly maxBytes: number;
  readonly buffers?: PieceBufferPool | undefined;
}): RecentPieces {
  // Insertion order is arrival order: the first entry is the oldest.
  const pieces = new Map<number, Uint8Array>();
  let bytes = 0;

  function drop(index: number, piece: Uint8Array): void {
    pieces.delete(index);
    bytes -= piece.byteLength;
    options.buffers?.give(piece);
  }

  return {
    keep(index, piece) {
      const held = pieces.get(index);
      if (held !== undefined) drop(index, held);
      if (piece.byteLength > options.maxBytes) {
        options.buffers?.give(piece);
        return;
      }
      pieces.set(index, piece);
      bytes += piece.byteLength;
      for (const [oldest, old] of pieces) {
        if (bytes <= options.maxBytes) break;
        drop(oldest, old);
      }
    },

    copy(index, into) {
      const piece = pieces.get(index);
      if (piece === undefined) return undefined;
      const target =
        into === undefined ? Buffer.allocUnsafe(piece.byteLength) : into.subarray(0, piece.byteLength);
      if (target.byteLength < piece.byteLength) return undefined;
      target.set(piece);
      return target;
    },

    peek(index) {
      return pieces.get(index);
    },

    clear() {
      for (const [index, piece] of pieces) drop(index, piece);
    },
  };
}
