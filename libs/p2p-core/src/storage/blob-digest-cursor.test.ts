import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createPieceBufferPool } from '../buffers/piece-buffer-pool.js';
import { toMetainfo } from '../metainfo/metainfo.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import { createBlobDigestCursor } from './blob-digest-cursor.js';

const PIECE = MIN_PIECE_LENGTH;
const blob = randomBytes(PIECE * 4 + 500);
const pieces = Array.from({ length: 5 }, (_, i) => blob.subarray(i * PIECE, (i + 1) * PIECE));
const metainfo = toMetainfo({
  digest: digestOf(blob).value,
  size: blob.byteLength,
  pieceLength: PIECE,
  pieceHashes: pieces.map((p) => createHash('sha256').update(p).digest('hex')),
});

/** A cursor over a data "file" in memory, counting the pieces it reads back. */
function cursorOver(options: { held?: Set<number> } = {}) {
  const stored = new Set<number>();
  const reads: number[] = [];
  const cursor = createBlobDigestCursor({
    metainfo,
    digest: digestOf(blob),
    has: (i) => stored.has(i),
    readInto: async (i, into) => {
      reads.push(i);
      await new Promise((resolve) => setImmediate(resolve));
      into.set(pieces[i] ?? Buffer.alloc(0));
      return into;
    },
    peek: (i) => (options.held?.has(i) === true ? pieces[i] : undefined),
    buffers: createPieceBufferPool({ maxPooledBytes: 4 * PIECE }),
  });
  return { cursor, stored, reads };
}

describe('createBlobDigestCursor', () => {
  it('hashes pieces that arrive in order from memory, reading nothing back', async () => {
    const { cursor, stored, reads } = cursorOver();
    for (let i = 0; i < pieces.length; i++) {
      stored.add(i);
      expect(cursor.offer(i, pieces[i] ?? Buffer.alloc(0))).toBe(true);
    }
    expect(cursor.position).toBe(5);
    expect((await cursor.finish()).value).toBe(metainfo.digest);
    expect(reads).toEqual([]);
  });

  it('reads back the pieces that came out of order once the gap before them fills', async () => {
    const { cursor, stored, reads } = cursorOver();
    for (const i of [2, 3]) {
      stored.add(i);
      expect(cursor.offer(i, pieces[i] ?? Buffer.alloc(0))).toBe(false);
    }
    stored.add(0);
    expect(cursor.offer(0, pieces[0] ?? Buffer.alloc(0))).toBe(true);
    stored.add(1);
    expect(cursor.offer(1, pieces[1] ?? Buffer.alloc(0))).toBe(true);
    await cursor.advance();
    expect(cursor.position).toBe(4);
    expect(reads).toEqual([2, 3]);
    stored.add(4);
    expect((await cursor.finish()).value).toBe(metainfo.digest);
    expect(reads).toEqual([2, 3, 4]);
  });

  it('takes pieces still in memory without reading them back', async () => {
    const { cursor, stored, reads } = cursorOver({ held: new Set([1, 2]) });
    for (const i of [4, 1, 2, 3, 0]) stored.add(i);
    expect((await cursor.finish()).value).toBe(metainfo.digest);
    expect(reads).toEqual([0, 3, 4]);
  });

  it('leaves a piece offered while a read-back runs to that run', async () => {
    const { cursor, stored, reads } = cursorOver();
    stored.add(0);
    const running = cursor.advance();
    stored.add(1);
    expect(cursor.offer(1, pieces[1] ?? Buffer.alloc(0))).toBe(false);
    await running;
    expect(cursor.position).toBe(2);
    expect(reads).toEqual([0, 1]);
  });

  it('fails finish() while a piece is missing, and stops advancing once stopped', async () => {
    const { cursor, stored } = cursorOver();
    stored.add(0);
    await expect(cursor.finish()).rejects.toThrow('piece 1 of 5 is not stored');
    stored.add(1);
    cursor.stop();
    await cursor.advance();
    expect(cursor.position).toBe(1);
    expect(cursor.offer(1, pieces[1] ?? Buffer.alloc(0))).toBe(false);
  });
});
