import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createServer, request, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { createPieceBufferPool } from '../buffers/piece-buffer-pool.js';
import { describe, expect, it } from 'vitest';
import { pieceRange, type Metainfo } from '../metainfo/metainfo.js';
import { ProgressiveStreamError } from '../errors.js';
import { createProgressiveStream } from './progressive-stream.js';

const PIECE = 1024;
const data = randomBytes(PIECE * 4 + 100);
const metainfo: Metainfo = {
  digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
  size: data.length,
  pieceLength: PIECE,
  // The stream trusts readPiece for verification; hashes are not read here.
  pieceHashes: Array.from({ length: 5 }, () => '0'.repeat(64)),
};

function piece(index: number): Buffer {
  const { offset, length } = pieceRange(metainfo, index);
  return data.subarray(offset, offset + length);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('createProgressiveStream', () => {
  it('streams pieces in order as they arrive, and a byte range of them', async () => {
    const done = Promise.resolve(true);
    const whole = createProgressiveStream({
      metainfo,
      readPiece: (index) => Promise.resolve(piece(index)),
      done,
      resume: () => Promise.reject(new Error('not needed')),
    });
    expect((await collect(whole)).equals(data)).toBe(true);

    const ranged = createProgressiveStream({
      metainfo,
      range: { start: 1000, end: 3100 },
      readPiece: (index) => Promise.resolve(piece(index)),
      done,
      resume: () => Promise.reject(new Error('not needed')),
    });
    expect((await collect(ranged)).equals(data.subarray(1000, 3101))).toBe(true);
  });

  it('sends the first pieces before the download ends, and the last only once it is verified', async () => {
    const done = deferred<boolean>();
    const stream = createProgressiveStream({
      metainfo,
      readPiece: (index) => Promise.resolve(piece(index)),
      done: done.promise,
      resume: () => Promise.reject(new Error('not needed')),
    });
    const received: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => received.push(chunk));
    await expect.poll(() => Buffer.concat(received).length).toBe(PIECE * 4);
    // Everything but the final piece is out; it waits for the whole-digest check.
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(received).length).toBe(PIECE * 4);
    done.resolve(true);
    await new Promise((r) => stream.once('end', r));
    expect(Buffer.concat(received).equals(data)).toBe(true);
  });

  it('fails without the last bytes when the blob fails verification', async () => {
    const stream = createProgressiveStream({
      metainfo,
      readPiece: (index) => Promise.resolve(piece(index)),
      done: Promise.resolve(false),
      resume: () => Promise.reject(new Error('not needed')),
    });
    await expect(collect(stream)).rejects.toBeInstanceOf(ProgressiveStreamError);
  });

  it('carries on from the stored copy when the swarm stops half way', async () => {
    const resumed: { start: number; end: number }[] = [];
    const stream = createProgressiveStream({
      metainfo,
      readPiece: (index) =>
        index < 2 ? Promise.resolve(piece(index)) : Promise.reject(new Error('swarm stopped')),
      done: Promise.resolve(true),
      resume: (range) => {
        resumed.push(range);
        return Promise.resolve(Readable.from([data.subarray(range.start, range.end + 1)]));
      },
    });
    expect((await collect(stream)).equals(data)).toBe(true);
    expect(resumed).toEqual([{ start: 2 * PIECE, end: data.length - 1 }]);
  });

  it('fails when the swarm stops and the download ends without a blob', async () => {
    const stream = createProgressiveStream({
      metainfo,
      readPiece: () => Promise.reject(new Error('swarm stopped')),
      done: Promise.resolve(false),
      resume: () => Promise.reject(new Error('not needed')),
    });
    const err: unknown = await collect(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProgressiveStreamError);
    expect((err as Error).cause).toMatchObject({ message: 'swarm stopped' });
  });

  it('aborts a pending piece wait when the client goes away', async () => {
    let aborted = false;
    const stream = createProgressiveStream({
      metainfo,
      readPiece: (_index, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
      done: new Promise(() => {}),
      resume: () => Promise.reject(new Error('not needed')),
    });
    stream.resume();
    await new Promise((r) => setImmediate(r));
    stream.destroy();
    await expect.poll(() => aborted).toBe(true);
  });

  it('writes pieces read into pooled buffers straight to a response, giving each back once sent', async () => {
    // Pieces the pool keeps (it leaves small buffers to the allocator).
    const BIG = 32 * 1024;
    const big = randomBytes(BIG * 6 + 10);
    const bigInfo: Metainfo = {
      ...metainfo,
      size: big.length,
      pieceLength: BIG,
      pieceHashes: Array(7).fill('0'.repeat(64)),
    };
    const pool = createPieceBufferPool({ maxPooledBytes: 4 * BIG });
    const intoBuffers = new Set<ArrayBufferLike>();
    const done = deferred<boolean>();
    const server = createServer((_req, res: ServerResponse) => {
      createProgressiveStream({
        metainfo: bigInfo,
        readPiece: (index, _signal, into) => {
          if (into === undefined) throw new Error('expected a pooled buffer');
          intoBuffers.add(into.buffer);
          const bytes = big.subarray(index * BIG, (index + 1) * BIG);
          into.set(bytes);
          return Promise.resolve(into.subarray(0, bytes.length));
        },
        done: done.promise,
        resume: () => Promise.reject(new Error('not needed')),
        buffers: pool,
      }).pipe(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const body = new Promise<Buffer>((resolve, reject) => {
      request({ host: '127.0.0.1', port: address.port }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).end();
    });
    // The last piece waits for the whole digest.
    await expect.poll(() => intoBuffers.size).toBeGreaterThan(0);
    done.resolve(true);
    expect((await body).equals(big)).toBe(true);
    server.close();
    // A few buffers took turns (a piece is read while the one before is being sent), and came back.
    expect(intoBuffers.size).toBeLessThanOrEqual(3);
    await expect.poll(() => pool.pooledBytes).toBe(intoBuffers.size * BIG);
  });
});
