import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  ContentTooLargeError,
  DigestMismatchError,
  InvalidDigestError,
  SizeMismatchError,
  digestOf,
} from '@kraken/oci-content';
import { InvalidMetainfoError } from '../errors.js';
import { generateMetainfo } from './metainfo-generator.js';
import { pieceRange, verifyPiece } from './metainfo.js';
import { MAX_SWARM_BLOB_SIZE, MIN_PIECE_LENGTH } from './piece-length.js';
import { loadSha256Chain, resumeSha256 } from './sha256-chain.js';

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Yields `data` in chunks of the given sizes (cycled), so pieces straddle chunks. */
async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    yield data.subarray(at, at + size);
    at += size;
  }
}

describe('generateMetainfo', () => {
  const L = MIN_PIECE_LENGTH;

  it.each([
    ['0 bytes', 0, 0],
    ['1 byte', 1, 1],
    ['one piece minus 1', L - 1, 1],
    ['exactly one piece', L, 1],
    ['one piece + 1', L + 1, 2],
    ['exactly three pieces', 3 * L, 3],
  ])('cuts %s into the right plain pieces', async (_name, size, pieces) => {
    const data = randomBytes(size);
    for (const sizes of [[size || 1], [1000, 7, 65536], [L - 1]]) {
      const m = await generateMetainfo(chunked(data, sizes), {
        digest: digestOf(data).value,
        size,
        pieceHashing: 'sha256',
      });
      expect(m).toMatchObject({ digest: digestOf(data).value, size, pieceLength: L });
      expect(m.pieceHashing).toBeUndefined();
      expect(m.pieceHashes).toHaveLength(pieces);
      for (let i = 0; i < pieces; i++) {
        const { offset, length } = pieceRange(m, i);
        const piece = data.subarray(offset, offset + length);
        expect(m.pieceHashes[i]).toBe(sha(piece));
        expect(await verifyPiece(m, i, piece)).toBe(true);
      }
    }
  });

  it.each([
    ['1 byte', 1, 1],
    ['one piece minus 1', L - 1, 1],
    ['exactly one piece', L, 1],
    ['one piece + 1', L + 1, 2],
    ['exactly three pieces', 3 * L, 3],
  ])('chains %s by default: each entry is the state the blob reaches there', async (_name, size, pieces) => {
    await loadSha256Chain();
    const data = randomBytes(size);
    for (const sizes of [[size], [1000, 7, 65536], [L - 1]]) {
      const m = await generateMetainfo(chunked(data, sizes), { digest: digestOf(data).value, size });
      expect(m.pieceHashing).toBe('sha256-chain');
      expect(m.pieceHashes).toHaveLength(pieces);
      expect(m.pieceHashes.at(-1)).toBe(sha(data));
      for (let i = 0; i < pieces; i++) {
        const { offset, length } = pieceRange(m, i);
        const end = offset + length;
        expect(await verifyPiece(m, i, data.subarray(offset, end))).toBe(true);
        // Node's own sha256 is the oracle: the rest of the blob from this entry gives the digest.
        if (i < pieces - 1) {
          expect(resumeSha256(m.pieceHashes[i]!, end).update(data.subarray(end)).digest()).toBe(sha(data));
        }
      }
    }
  });

  it('gives empty blobs plain metainfo, and refuses a chain for a sha512 digest', async () => {
    const empty = await generateMetainfo(chunked(Buffer.alloc(0), [1]), {
      digest: digestOf('').value,
      size: 0,
    });
    expect(empty.pieceHashing).toBeUndefined();
    expect(empty.pieceHashes).toEqual([]);
    const data = randomBytes(L + 5);
    await expect(
      generateMetainfo(chunked(data, [L]), {
        digest: digestOf(data, 'sha512').value,
        size: data.length,
        pieceHashing: 'sha256-chain',
      }),
    ).rejects.toThrow(InvalidMetainfoError);
  });

  it('accepts a Readable and sha512 blob digests', async () => {
    const data = randomBytes(L + 5);
    const m = await generateMetainfo(Readable.from([data]), {
      digest: digestOf(data, 'sha512').value,
      size: data.length,
    });
    expect(m.digest.startsWith('sha512:')).toBe(true);
    expect(m.pieceHashes).toEqual([sha(data.subarray(0, L)), sha(data.subarray(L))]);
  });

  it.each(['sha256', 'sha256-chain'] as const)('fails on a digest mismatch (%s)', async (pieceHashing) => {
    const data = randomBytes(L + 1);
    const wrong = digestOf('other').value;
    await expect(
      generateMetainfo(chunked(data, [4096]), { digest: wrong, size: data.length, pieceHashing }),
    ).rejects.toThrow(DigestMismatchError);
  });

  it.each(['sha256', 'sha256-chain'] as const)(
    'fails as soon as the stream runs past the declared size, and when it is short (%s)',
    async (pieceHashing) => {
      const data = randomBytes(100);
      let pulled = 0;
      async function* counting(): AsyncGenerator<Buffer> {
        for (const chunk of [data.subarray(0, 60), data.subarray(60), randomBytes(L), randomBytes(L)]) {
          pulled++;
          yield chunk;
        }
      }
      await expect(
        generateMetainfo(counting(), { digest: digestOf(data).value, size: 70, pieceHashing }),
      ).rejects.toThrow(SizeMismatchError);
      expect(pulled).toBe(2);
      await expect(
        generateMetainfo(chunked(data, [10]), { digest: digestOf(data).value, size: 101, pieceHashing }),
      ).rejects.toThrow(SizeMismatchError);
    },
  );

  it('rejects bad options with typed errors', async () => {
    const data = Buffer.from('abc');
    await expect(generateMetainfo(chunked(data, [3]), { digest: 'sha256:nope', size: 3 })).rejects.toThrow(
      InvalidDigestError,
    );
    await expect(
      generateMetainfo(chunked(data, [3]), { digest: digestOf(data).value, size: 3, pieceLength: 1000 }),
    ).rejects.toThrow(InvalidMetainfoError);
  });

  it('refuses blobs larger than the swarm carries before reading anything', async () => {
    let pulled = false;
    async function* never(): AsyncGenerator<Buffer> {
      pulled = true;
      yield Buffer.alloc(1);
    }
    await expect(
      generateMetainfo(never(), { digest: digestOf('x').value, size: MAX_SWARM_BLOB_SIZE + 1 }),
    ).rejects.toThrow(ContentTooLargeError);
    expect(pulled).toBe(false);
  });

  it('streams 64 MiB without holding on to chunks', async () => {
    const size = 64 * 1024 * 1024;
    const chunkSize = 1024 * 1024 + 3; // not aligned with pieces
    // Deterministic content from a counter; one buffer is reused for every chunk, so
    // an implementation that kept references to chunks would hash overwritten bytes.
    const reused = Buffer.alloc(chunkSize);
    async function* content(onChunk?: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
      for (let at = 0, n = 0; at < size; at += chunkSize, n++) {
        const view = reused.subarray(0, Math.min(chunkSize, size - at));
        view.fill(n % 251);
        view.writeUInt32BE(n, 0);
        onChunk?.(view);
        yield view;
      }
    }
    const whole = createHash('sha256');
    const pieces: string[] = [];
    let piece = createHash('sha256');
    let fill = 0;
    for await (const chunk of content()) {
      whole.update(chunk);
      for (let at = 0; at < chunk.length;) {
        const take = Math.min(4 * 1024 * 1024 - fill, chunk.length - at);
        piece.update(chunk.subarray(at, at + take));
        at += take;
        fill += take;
        if (fill === 4 * 1024 * 1024) {
          pieces.push(piece.digest('hex'));
          piece = createHash('sha256');
          fill = 0;
        }
      }
    }
    const digest = `sha256:${whole.digest('hex')}`;
    const before = process.memoryUsage().arrayBuffers;
    const m = await generateMetainfo(content(), {
      digest,
      size,
      pieceLength: 4 * 1024 * 1024,
      pieceHashing: 'sha256',
    });
    expect(m.pieceHashes).toEqual(pieces);
    const chained = await generateMetainfo(content(), { digest, size, pieceLength: 4 * 1024 * 1024 });
    expect(chained.pieceHashes).toHaveLength(16);
    expect(chained.pieceHashes.at(-1)).toBe(digest.slice('sha256:'.length));
    // Loose bound: far below the blob size, which a buffering implementation would need.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });
});
