import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBufferPool } from './buffer-pool.js';
import { FileReadStream } from './file-read-stream.js';

const MiB = 1024 * 1024;
let dir: string;
let file: string;
let content: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-read-stream-'));
  file = join(dir, 'blob');
  content = randomBytes(5 * MiB + 12345);
  await writeFile(file, content);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function stream(
  start = 0,
  end = content.length - 1,
  pool = createBufferPool({ bufferSize: MiB, maxPooled: 8 }),
) {
  return new FileReadStream({ handle: await open(file, 'r'), start, end, pool });
}

/** A destination that flushes slowly and copies each chunk before acknowledging it. */
function slowSink(options: { failAfter?: number } = {}) {
  const received: Buffer[] = [];
  let maxPending = 0;
  let pending = 0;
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, callback) {
      pending++;
      maxPending = Math.max(maxPending, pending);
      setTimeout(() => {
        pending--;
        received.push(Buffer.from(chunk));
        if (options.failAfter !== undefined && received.length >= options.failAfter)
          callback(new Error('peer went away'));
        else callback();
      }, 2);
    },
  });
  return { sink, received, maxPending: () => maxPending };
}

describe('FileReadStream', () => {
  it('reads the whole file, and ranges, when iterated', async () => {
    const chunks: Buffer[] = [];
    for await (const c of await stream()) chunks.push(c as Buffer);
    expect(sha(Buffer.concat(chunks))).toBe(sha(content));
    const part: Buffer[] = [];
    for await (const c of await stream(MiB - 3, 2 * MiB + 5)) part.push(c as Buffer);
    expect(Buffer.concat(part).equals(content.subarray(MiB - 3, 2 * MiB + 6))).toBe(true);
  });

  it('copies into a file with reused buffers', async () => {
    let allocations = 0;
    const base = createBufferPool({ bufferSize: 256 * 1024, maxPooled: 8 });
    const pool = { ...base, take: () => (allocations++, base.take()) };
    const s = await stream(0, content.length - 1, pool);
    const copy = join(dir, 'copy');
    const sink = createWriteStream(copy);
    await new Promise<void>((resolve, reject) => {
      sink.on('finish', resolve);
      s.on('error', reject);
      s.pipe(sink);
    });
    expect(sha(await readFile(copy))).toBe(sha(content));
    expect(allocations).toBeGreaterThan(20);
    await new Promise((r) => setImmediate(r));
    expect(s.destroyed).toBe(true); // closed its file once done
  });

  it('never reuses a buffer a Transform may still hold downstream', async () => {
    let allocations = 0;
    const base = createBufferPool({ bufferSize: 256 * 1024, maxPooled: 8 });
    const pool = { ...base, take: () => (allocations++, base.take()) };
    const s = await stream(0, content.length - 1, pool);
    // A pass-through calls back as soon as it queued the chunk; the slow sink behind it
    // reads the chunk later. A reused buffer would have been overwritten by then.
    const relay = new PassThrough();
    const { sink, received, maxPending } = slowSink();
    await new Promise<void>((resolve, reject) => {
      sink.on('finish', resolve);
      s.on('error', reject);
      s.pipe(relay).pipe(sink);
    });
    expect(sha(Buffer.concat(received))).toBe(sha(content));
    expect(maxPending()).toBeLessThanOrEqual(4);
    expect(allocations).toBe(0);
  });

  it('stops and closes its file when the destination fails', async () => {
    const s = await stream();
    const { sink } = slowSink({ failAfter: 2 });
    sink.on('error', () => {});
    const closed = new Promise((resolve) => s.on('close', resolve));
    s.pipe(sink);
    await closed;
    expect(s.destroyed).toBe(true);
  });

  it('serves a fastify reply byte for byte, whole and ranged', async () => {
    const app = Fastify();
    app.get('/blob', async (request, reply) => {
      const range = request.headers.range?.match(/bytes=(\d+)-(\d+)/);
      const [start, end] = range ? [Number(range[1]), Number(range[2])] : [0, content.length - 1];
      reply.header('content-length', end - start + 1).code(range ? 206 : 200);
      return reply.send(await stream(start, end));
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      for (let i = 0; i < 3; i++) {
        const whole = Buffer.from(await (await fetch(`${url}/blob`)).arrayBuffer());
        expect(sha(whole)).toBe(sha(content));
      }
      const ranged = await fetch(`${url}/blob`, { headers: { range: 'bytes=100-2097251' } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(content.subarray(100, 2097252))).toBe(true);
    } finally {
      await app.close();
    }
  });
});
