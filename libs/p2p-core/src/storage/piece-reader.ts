/**
 * Reading the pieces of a complete blob, for seeding: the PieceReader that the scheduler
 * seeds from, over a store that streams byte ranges (the content store or the agent's
 * cache) and, when the store can, over the blob's open file. Each read fills one piece,
 * which is what the wire sends in one frame anyway, into the caller's buffer when it
 * passes one, so that the data path reuses its buffers (buffers/piece-buffer-pool.ts).
 */
import type { Readable } from 'node:stream';
import { SizeMismatchError } from '@kraken/oci-content';
import { pieceRange, type Metainfo } from '../metainfo/metainfo.js';

/**
 * Reads one verified piece of a complete blob (from the content store): into `into`
 * when given (at least the piece's length; the result is then a view of it), else into
 * a buffer of its own.
 */
export interface PieceReader {
  (index: number, into?: Buffer): Promise<Uint8Array>;
  /**
   * Releases what the reader keeps open (the blob's file); a later read opens it again.
   * The scheduler calls it when the blob leaves the swarm.
   */
  close?(): Promise<void>;
}

/** Streams an inclusive byte range of the blob. */
export type RangeReader = (range: { start: number; end: number }) => Promise<Readable>;

/** A blob's bytes by position until closed: an open `FileHandle` fits. */
export interface BlobFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

export interface PieceReaderOptions {
  /**
   * Opens the blob's file for positional reads (undefined when the store has none at
   * hand, e.g. the blob is not on local disk): opened at the first read and kept open
   * until `close()`, so seeding costs one read per piece instead of an open, a stat, a
   * stream and a close. Reads fall back to `read` ranges while it is undefined.
   */
  readonly open?: (() => Promise<BlobFile | undefined>) | undefined;
}

/**
 * A reader of the pieces of `metainfo`'s blob. A store that sends more or fewer bytes
 * than the piece holds (the blob changed under it, or a short read) fails the read
 * with SizeMismatchError rather than serving a piece that cannot verify.
 */
export function createPieceReader(
  metainfo: Metainfo,
  read: RangeReader,
  options: PieceReaderOptions = {},
): PieceReader {
  let file: Promise<BlobFile | undefined> | undefined;

  async function fromRange(offset: number, piece: Buffer): Promise<Buffer> {
    const { length } = piece;
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
  }

  const reader: PieceReader = async (index, into) => {
    const { offset, length } = pieceRange(metainfo, index);
    const piece = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length);
    if (piece.length < length)
      throw new RangeError(`a buffer of ${into?.length} bytes cannot hold piece ${index}`);
    if (options.open !== undefined) {
      file ??= options.open().catch(() => undefined);
      const opened = await file;
      if (opened !== undefined) return readAt(opened, offset, piece);
      // Not at hand now; ask again next time (the store may have it by then).
      file = undefined;
    }
    return fromRange(offset, piece);
  };
  reader.close = async () => {
    const open = file;
    file = undefined;
    await (await open)?.close();
  };
  return reader;
}

/** Fills `piece` from `file` at `offset`; SizeMismatchError when the file ends first. */
export async function readAt(file: BlobFile, offset: number, piece: Buffer): Promise<Buffer> {
  const { length } = piece;
  for (let done = 0; done < length;) {
    const { bytesRead } = await file.read(piece, done, length - done, offset + done);
    if (bytesRead === 0) throw new SizeMismatchError(length, done);
    done += bytesRead;
  }
  return piece;
}
