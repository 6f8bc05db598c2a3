/**
 * Reads one piece of a complete blob out of a store that streams byte ranges (the
 * content store or the agent's cache), for seeding. Each read holds one piece in
 * memory, which is what the wire sends in one frame anyway.
 */
import type { Readable } from 'node:stream';
import { pieceRange, type Metainfo } from './metainfo.js';
import type { PieceReader } from './swarm-blob.js';

/** Streams an inclusive byte range of the blob. */
export type RangeReader = (range: { start: number; end: number }) => Promise<Readable>;

export function createPieceReader(metainfo: Metainfo, read: RangeReader): PieceReader {
  return async (index) => {
    const { offset, length } = pieceRange(metainfo, index);
    const piece = Buffer.allocUnsafe(length);
    let filled = 0;
    const stream = await read({ start: offset, end: offset + length - 1 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (filled + chunk.byteLength > length) {
        stream.destroy();
        throw new RangeError(
          `piece ${index} of ${metainfo.digest}: the store sent more than ${length} bytes`,
        );
      }
      chunk.copy(piece, filled);
      filled += chunk.byteLength;
    }
    if (filled !== length) {
      throw new RangeError(
        `piece ${index} of ${metainfo.digest}: the store sent ${filled} of ${length} bytes`,
      );
    }
    return piece;
  };
}
