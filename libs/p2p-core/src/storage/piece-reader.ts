/**
 * Reading the pieces of a complete blob, for seeding: the PieceReader that the scheduler
 * seeds from, and one over a store that streams byte ranges (the content store or the
 * agent's cache). Each read holds one piece in memory, which is what the wire sends in
 * one frame anyway.
 */
import type { Readable } from 'node:stream';
import { SizeMismatchError } from '@kraken/oci-content';
import { pieceRange, type Metainfo } from '../metainfo/metainfo.js';

/** Reads one verified piece of a complete blob (from the content store). */
export type PieceReader = (index: number) => Promise<Uint8Array>;

/** Streams an inclusive byte range of the blob. */
export type RangeReader = (range: { start: number; end: number }) => Promise<Readable>;

/**
 * A reader of the pieces of `metainfo`'s blob. A store that sends more or fewer bytes
 * than the piece holds (the blob changed under it, or a short read) fails the read
 * with SizeMismatchError rather than serving a piece that cannot verify.
 */
export function createPieceReader(metainfo: Metainfo, read: RangeReader): PieceReader {
  return async (index) => {
    const { offset, length } = pieceRange(metainfo, index);
    const piece = Buffer.allocUnsafe(length);
    let filled = 0;
    const stream = await read({ start: offset, end: offset + length - 1 });
    // Uint8Array, not Buffer: object-mode and web-converted streams yield plain ones.
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      if (filled + chunk.byteLength > length) {
        stream.destroy();
        throw new SizeMismatchError(length, filled + chunk.byteLength);
      }
      piece.set(chunk, filled);
      filled += chunk.byteLength;
    }
    if (filled !== length) throw new SizeMismatchError(length, filled);
    return piece;
  };
}
