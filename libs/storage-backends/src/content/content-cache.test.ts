import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createMetrics } from '@kraken/service-kit';
import { blobKey } from '../keys/blob-key.js';
import { createContentCache, type ContentCache } from './content-cache.js';

let dir: string;
let cache: ContentCache | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'content-cache-'));
});
afterEach(async () => {
  await cache?.close();
  await rm(dir, { recursive: true, force: true });
});

const blob = (fill: number, size = 1000) => Buffer.alloc(size, fill);
const put = (c: ContentCache, data: Buffer) =>
  c.write(digestOf(data), Readable.from([data]), { size: data.length });
const settle = () => new Promise((r) => setTimeout(r, 20));
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('content cache', () => {
  it('evicts least recently used blobs past the high watermark, down to the low one', async () => {
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 3000, lowWatermark: 0.7 });
    await cache.start();
    const [a, b, c, d] = [blob(1), blob(2), blob(3), blob(4)];
    await put(cache, a);
    await put(cache, b);
    await put(cache, c);
    await readAll(await cache.read(digestOf(a))); // a is now the most recently used
    await put(cache, d);
    await settle();
    // 4000 > 3000: evict oldest-first (b, then c) until at most 2100 bytes remain.
    expect(cache.usage()).toMatchObject({ bytes: 2000, blobs: 2 });
    expect(await cache.stat(digestOf(b))).toBeUndefined();
    expect(await cache.stat(digestOf(c))).toBeUndefined();
    expect(await cache.stat(digestOf(a))).toEqual({ size: 1000 });
    expect(await cache.stat(digestOf(d))).toEqual({ size: 1000 });
  });

  it('never evicts a blob while it is being read', async () => {
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 1500, lowWatermark: 0.1 });
    await cache.start();
    const a = blob(1);
    await put(cache, a);
    const reading = await cache.read(digestOf(a));
    await put(cache, blob(2));
    await settle();
    expect(await cache.stat(digestOf(a))).toEqual({ size: 1000 });
    expect((await readAll(reading)).equals(a)).toBe(true);
    await settle();
    // Released: the next pass may take it.
    expect(cache.usage().pinned).toBe(0);
    expect(cache.usage().bytes).toBeLessThanOrEqual(1000);
  });

  it('keeps a pinned blob, taken before it was written, until the pin is released', async () => {
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 1500, lowWatermark: 0.1 });
    await cache.start();
    const a = blob(1);
    const release = cache.pin(digestOf(a));
    await put(cache, a);
    await put(cache, blob(2));
    await settle();
    expect(await cache.stat(digestOf(a))).toEqual({ size: 1000 });
    release();
    release(); // idempotent
    // Released, it is the least recently used blob of the next pass.
    await put(cache, blob(3));
    await settle();
    expect(await cache.stat(digestOf(a))).toBeUndefined();
    expect(cache.usage().pinned).toBe(0);
  });

  it('lists cached digests in order, page by page', async () => {
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 0 });
    await cache.start();
    const digests = [blob(1), blob(2), blob(3)].map((b) => digestOf(b).value).sort();
    for (const fill of [1, 2, 3]) await put(cache, blob(fill));
    const first = cache.list({ limit: 2 });
    expect(first.digests.map((d) => d.value)).toEqual(digests.slice(0, 2));
    const second = cache.list({ limit: 2, continuationToken: first.continuationToken! });
    expect(second).toEqual({
      digests: [expect.objectContaining({ value: digests[2] })],
      continuationToken: undefined,
    });
    expect(cache.list({ algorithm: 'sha512' }).digests).toEqual([]);
  });

  it('counts only its own blobs, and finds them again after a restart, oldest first', async () => {
    const root = join(dir, 'c');
    await writeFile(join(dir, 'unrelated-big-file'), blob(9, 50_000));
    cache = createContentCache({ root, maxBytes: 10_000 });
    await cache.start();
    const [a, b] = [blob(1), blob(2)];
    await put(cache, a);
    await put(cache, b);
    const old = new Date(Date.now() - 60_000);
    await utimes(join(root, blobKey(digestOf(b))), old, old);
    await cache.close();

    cache = createContentCache({ root, maxBytes: 1500, lowWatermark: 0.9 });
    await cache.start();
    expect(await cache.stat(digestOf(b))).toBeUndefined();
    expect(await cache.stat(digestOf(a))).toEqual({ size: 1000 });
    expect(cache.usage()).toMatchObject({ bytes: 1000, blobs: 1 });
  });

  it('opens a cached blob for positional reads, pinned until the file is closed', async () => {
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 1500, lowWatermark: 0.1 });
    await cache.start();
    const [a, b] = [blob(1), blob(2)];
    expect(await cache.openFile(digestOf(a))).toBeUndefined();
    await put(cache, a);
    const file = await cache.openFile(digestOf(a));
    if (file === undefined) throw new Error('not opened');
    expect(file.size).toBe(1000);
    const into = Buffer.alloc(10);
    expect((await file.read(into, 0, 10, 500)).bytesRead).toBe(10);
    expect(into.equals(a.subarray(500, 510))).toBe(true);
    expect(cache.usage().pinned).toBe(1);
    // Over the bound, yet the open blob stays.
    await put(cache, b);
    await settle();
    expect(await cache.stat(digestOf(a))).toBeDefined();
    await file.close();
    await file.close();
    expect(cache.usage().pinned).toBe(0);
  });

  it('adopts a verified file by hard link, without copying', async () => {
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 0 });
    await cache.start();
    const data = blob(7, 4096);
    const file = join(dir, 'upload-data');
    await writeFile(file, data);
    await cache.adopt(digestOf(data), file, data.length);
    expect((await readAll(await cache.read(digestOf(data)))).equals(data)).toBe(true);
    await cache.adopt(digestOf(data), file, data.length);
    expect(cache.usage()).toMatchObject({ bytes: 4096, blobs: 1 });
    expect(await readdir(join(dir, 'c', '.tmp')).catch(() => [])).toEqual([]);
  });

  it('rejects content that does not match its digest, caching nothing', async () => {
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 0 });
    await cache.start();
    await expect(cache.write(digestOf('expected'), Readable.from([Buffer.from('other')]))).rejects.toThrow(
      /does not match/,
    );
    expect(cache.usage().blobs).toBe(0);
  });
});

describe('content cache metrics', () => {
  it('counts evictions and reports the bytes held as blob_cache_*', async () => {
    const metrics = createMetrics('agent', { defaultMetrics: false });
    cache = createContentCache({ root: join(dir, 'c'), maxBytes: 2500, lowWatermark: 0.5, metrics });
    await cache.start();
    expect(await metrics.registry.metrics()).toContain('kraken_agent_blob_cache_evictions_total 0');
    for (const fill of [1, 2, 3]) await put(cache, blob(fill));
    await settle();
    const text = await metrics.registry.metrics();
    expect(text).toContain('kraken_agent_blob_cache_evictions_total 2');
    expect(text).toContain('kraken_agent_blob_cache_bytes 1000');
    expect(text).not.toContain('evicted_bytes');
  });

  it('takes another prefix, and counts evicted bytes when asked (the origin)', async () => {
    const metrics = createMetrics('origin', { defaultMetrics: false });
    cache = createContentCache({
      root: join(dir, 'c'),
      maxBytes: 1500,
      lowWatermark: 0.5,
      metrics,
      metricsPrefix: 'cache_',
      evictedBytesMetric: true,
    });
    await cache.start();
    await put(cache, blob(1, 1000));
    await put(cache, blob(2, 600));
    await settle();
    const text = await metrics.registry.metrics();
    expect(text).toContain('kraken_origin_cache_evictions_total 1');
    expect(text).toContain('kraken_origin_cache_evicted_bytes_total 1000');
    expect(text).toContain('kraken_origin_cache_bytes 600');
    expect(text).not.toContain('blob_cache');
  });
});
