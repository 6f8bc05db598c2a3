import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '@kraken/oci-content';
import { createContentCache, type ContentCache } from '@kraken/storage-backends';
import { CorruptBackendContentError, ObjectNotFoundError } from '@kraken/storage-backends';
import { createReadThrough, type FillResult, type ReadThrough } from './read-through-store.js';
import { type FillSource } from './blob-fill.js';
import { readAll } from '@kraken/storage-backends/testing';

let dir: string;
let cache: ContentCache;
let readThrough: ReadThrough;
let fills: FillResult[];
let logged: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'read-through-'));
  cache = createContentCache({ root: join(dir, 'cache'), maxBytes: 0 });
  await cache.start();
  fills = [];
  logged = [];
  readThrough = createReadThrough({
    cache,
    fillDir: join(dir, 'fills'),
    logger: { info() {}, warn() {}, error: (_fields, message) => logged.push(message) },
    onFill: (event) => fills.push(event.result),
  });
  await readThrough.start();
});
afterEach(async () => {
  await readThrough.close();
  await cache.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A backend holding one blob, whose reads send the first chunk at once and the rest
 * only when `release()` is called; it counts its reads.
 */
function gatedBackend(content: Buffer, options: { digest?: Digest; firstChunk?: number } = {}) {
  const digest = options.digest ?? digestOf(content);
  const first = options.firstChunk ?? 1024;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const backend = {
    reads: 0,
    name: 'gated',
    release: () => open(),
    async stat(d: Digest) {
      return d.value === digest.value ? { size: content.length } : undefined;
    },
    async read(d: Digest) {
      if (d.value !== digest.value) throw new ObjectNotFoundError(d.value);
      backend.reads += 1;
      return Readable.from(
        (async function* () {
          yield content.subarray(0, first);
          await gate;
          for (let o = first; o < content.length; o += 4096) yield content.subarray(o, o + 4096);
        })(),
      );
    },
  } satisfies FillSource & Record<string, unknown>;
  return { backend, digest };
}

const content = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 251));

describe('read-through store', () => {
  it('serves N concurrent readers from one backend read, then from the cache', async () => {
    const data = content(200_000);
    const { backend, digest } = gatedBackend(data);
    const readers = await Promise.all(Array.from({ length: 5 }, () => readThrough.read(digest, backend)));
    const bodies = Promise.all(readers.map((r) => readAll(r)));
    backend.release();
    for (const body of await bodies) expect(body.equals(data)).toBe(true);
    expect(backend.reads).toBe(1);
    expect(fills).toEqual(['done']);
    expect(await cache.stat(digest)).toEqual({ size: data.length });
    expect((await readAll(await readThrough.read(digest, backend))).equals(data)).toBe(true);
    expect(backend.reads).toBe(1);
    expect(readThrough.active()).toBe(0);
    // The temp file goes once the last reader let go of it.
    await expect.poll(() => readdir(join(dir, 'fills'))).toEqual([]);
  });

  it('streams the first bytes to a client before the backend has finished', async () => {
    const data = content(100_000);
    const { backend, digest } = gatedBackend(data, { firstChunk: 1000 });
    const reader = await readThrough.read(digest, backend);
    const iterator = reader[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Buffer;
    expect(first.equals(data.subarray(0, 1000))).toBe(true);
    // Still filling: nothing is in the cache yet.
    expect(await cache.stat(digest)).toBeUndefined();
    expect(await readThrough.stat(digest, backend)).toEqual({ size: data.length });
    backend.release();
    const rest: Buffer[] = [first];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next())
      rest.push(next.value as Buffer);
    expect(Buffer.concat(rest).equals(data)).toBe(true);
  });

  it('serves a range of a blob that is still filling', async () => {
    const data = content(50_000);
    const { backend, digest } = gatedBackend(data);
    const ranged = readThrough.read(digest, backend, { start: 30_000, end: 30_099 });
    backend.release();
    expect((await readAll(await ranged)).equals(data.subarray(30_000, 30_100))).toBe(true);
    await expect(readThrough.read(digest, backend, { start: 60_000, end: 60_001 })).rejects.toThrow(/range/);
  });

  it('fails every reader of content that does not match its digest and caches nothing', async () => {
    const data = content(80_000);
    const claimed = digestOf('something else entirely');
    const { backend } = gatedBackend(data, { digest: claimed });
    const readers = await Promise.all([
      readThrough.read(claimed, backend),
      readThrough.read(claimed, backend),
    ]);
    const outcomes = Promise.allSettled(readers.map((r) => readAll(r)));
    backend.release();
    for (const outcome of await outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(CorruptBackendContentError);
    }
    expect(fills).toEqual(['corrupt']);
    expect(logged).toEqual(['backend content corrupt']);
    expect(await cache.stat(claimed)).toBeUndefined();
    expect(cache.usage()).toMatchObject({ blobs: 0, pinned: 0 });
    await expect.poll(() => readdir(join(dir, 'fills'))).toEqual([]);
    // The next request tries the backend again rather than remembering the failure.
    const retry = readThrough.read(claimed, backend).then((r) => readAll(r));
    await expect(retry).rejects.toBeInstanceOf(CorruptBackendContentError);
    expect(backend.reads).toBe(2);
  });

  it('reports a blob the backend lacks as not found', async () => {
    const { backend } = gatedBackend(content(10));
    await expect(readThrough.read(digestOf('absent'), backend)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await readThrough.stat(digestOf('absent'), backend)).toBeUndefined();
    expect(fills).toEqual([]);
  });
});
