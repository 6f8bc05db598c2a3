import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SizeMismatchError } from '@kraken/oci-content';
import { InvalidPieceIndexError } from '../errors.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import { createPieceReader, type RangeReader } from './piece-reader.js';

const PIECE = MIN_PIECE_LENGTH;
// Two full pieces and a short last one.
const data = randomBytes(2 * PIECE + 1000);
const metainfo: Metainfo = {
  digest: `sha256:${'a'.repeat(64)}`,
  size: data.byteLength,
  pieceLength: PIECE,
  pieceHashes: ['0', '1', '2'].map((c) => c.repeat(64)),
};

/** Serves the range in chunks of `chunk` bytes, transformed by `shape`, recording what was asked. */
function store(options: { chunk?: number; shape?: (bytes: Buffer) => Buffer; plain?: boolean } = {}) {
  const ranges: { start: number; end: number }[] = [];
  const streams: Readable[] = [];
  const read: RangeReader = (range) => {
    ranges.push(range);
    const bytes = (options.shape ?? ((b) => b))(data.subarray(range.start, range.end + 1));
    const size = options.chunk ?? 64 * 1024;
    const chunks: Uint8Array[] = [];
    for (let offset = 0; offset < bytes.byteLength; offset += size) {
      const slice = bytes.subarray(offset, offset + size);
      // Plain Uint8Arrays, as object-mode and web-converted streams yield them.
      chunks.push(options.plain === true ? new Uint8Array(slice) : slice);
    }
    const stream = Readable.from(chunks);
    streams.push(stream);
    return Promise.resolve(stream);
  };
  return { read, ranges, streams };
}

/** Byte equality without vitest's element-wise diff, which is slow on a 256 KiB buffer. */
const same = (actual: Uint8Array, expected: Buffer) => expected.equals(actual);

describe('createPieceReader', () => {
  it('reads each piece from its inclusive byte range', async () => {
    const { read, ranges } = store({ chunk: 10_000 });
    const readPiece = createPieceReader(metainfo, read);
    expect(same(await readPiece(0), data.subarray(0, PIECE))).toBe(true);
    expect(same(await readPiece(2), data.subarray(2 * PIECE))).toBe(true);
    expect(ranges).toEqual([
      { start: 0, end: PIECE - 1 },
      { start: 2 * PIECE, end: 2 * PIECE + 999 },
    ]);
  });

  it('takes plain Uint8Array chunks', async () => {
    const readPiece = createPieceReader(metainfo, store({ plain: true }).read);
    expect(same(await readPiece(1), data.subarray(PIECE, 2 * PIECE))).toBe(true);
  });

  it('fails a store that sends more than the piece, and stops reading it', async () => {
    const extra = store({ shape: (bytes) => Buffer.concat([bytes, Buffer.alloc(1)]) });
    const readPiece = createPieceReader(metainfo, extra.read);
    const err = await readPiece(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SizeMismatchError);
    expect(err).toMatchObject({
      code: 'KRAKEN_SIZE_MISMATCH',
      detail: { expected: PIECE, actual: PIECE + 1 },
    });
    expect(extra.streams[0]?.destroyed).toBe(true);
  });

  it('fails a store that sends less than the piece', async () => {
    const short = store({ shape: (bytes) => bytes.subarray(0, bytes.byteLength - 1) });
    await expect(createPieceReader(metainfo, short.read)(2)).rejects.toMatchObject({
      code: 'KRAKEN_SIZE_MISMATCH',
      detail: { expected: 1000, actual: 999 },
    });
  });

  it('passes a stream error on', async () => {
    const readPiece = createPieceReader(metainfo, () => {
      const stream = new Readable({ read() {} });
      stream.push(data.subarray(0, 100));
      process.nextTick(() => stream.destroy(new Error('disk gone')));
      return Promise.resolve(stream);
    });
    await expect(readPiece(0)).rejects.toThrow('disk gone');
  });

  it('refuses an index outside the blob without reading', async () => {
    const { read, ranges } = store();
    const readPiece = createPieceReader(metainfo, read);
    await expect(readPiece(3)).rejects.toBeInstanceOf(InvalidPieceIndexError);
    await expect(readPiece(-1)).rejects.toBeInstanceOf(InvalidPieceIndexError);
    expect(ranges).toEqual([]);
  });

  it("reads from the blob file when the store opens one, into the caller's buffer, until closed", async () => {
    const { read, ranges } = store();
    let opened = 0;
    let closed = 0;
    const readPiece = createPieceReader(metainfo, read, {
      open: () => {
        opened++;
        return Promise.resolve({
          read: (buffer: Uint8Array, offset: number, length: number, position: number) => {
            // Short reads: the reader asks again for the rest.
            const n = Math.min(length, 5000, data.byteLength - position);
            buffer.set(data.subarray(position, position + n), offset);
            return Promise.resolve({ bytesRead: n });
          },
          close: () => {
            closed++;
            return Promise.resolve();
          },
        });
      },
    });
    const into = Buffer.alloc(PIECE);
    const first = await readPiece(1, into);
    expect(first.buffer).toBe(into.buffer);
    expect(same(first, data.subarray(PIECE, 2 * PIECE))).toBe(true);
    expect(same(await readPiece(2), data.subarray(2 * PIECE))).toBe(true);
    expect([opened, ranges.length]).toEqual([1, 0]);
    await readPiece.close?.();
    expect(closed).toBe(1);
    await readPiece(0);
    expect(opened).toBe(2);
  });

  it('reads ranges while the store has no file at hand', async () => {
    const { read, ranges } = store();
    const readPiece = createPieceReader(metainfo, read, { open: () => Promise.resolve(undefined) });
    expect(same(await readPiece(0), data.subarray(0, PIECE))).toBe(true);
    expect(ranges).toHaveLength(1);
  });
});
