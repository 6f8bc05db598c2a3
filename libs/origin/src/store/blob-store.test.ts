import { mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '@kraken/oci-content';
import { createMetrics } from '@kraken/service-kit';
import { createContentCache } from '@kraken/storage-backends';
import { blobKey, createContentStore, type ContentStore } from '@kraken/storage-backends';
import { NoBackendForNamespaceError, StorageUnavailableError } from '@kraken/storage-backends';
import { createFilesystemBackend } from '@kraken/storage-backends';
import { createOriginBlobStore, type OriginBlobStore } from './blob-store.js';
import { readAll } from '@kraken/storage-backends/testing';
import type { StorageBackend } from '@kraken/storage-backends';
import type { QueueClock } from '@kraken/storage-backends';

let dir: string;
let stores: OriginBlobStore[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'origin-blob-store-'));
  stores = [];
});
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

/** A clock whose timers fire only when the test advances it. */
function manualClock(): QueueClock & { advance(ms: number): void } {
  let now = 0;
  const timers = new Map<number, { at: number; fire: () => void }>();
  let next = 0;
  return {
    now: () => now,
    setTimeout(fire, ms) {
      timers.set(++next, { at: now + ms, fire });
      return next;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.fire();
      }
    },
  };
}

/** The filesystem backend, switchable off like a server going down. */
function switchableRemote() {
  const backend = createFilesystemBackend({ root: join(dir, 'remote') });
  const inner = createContentStore({ backend });
  const state = { down: false };
  const guard = () => {
    if (state.down) throw new StorageUnavailableError('switchable', new Error('connection refused'));
  };
  const remote: StorageBackend = {
    ...backend,
    name: 'switchable',
    async stat(key) {
      guard();
      return backend.stat(key);
    },
    async write(key, source, options) {
      guard();
      return backend.write(key, source, options);
    },
  };
  return { remote, inner, state };
}

function openStore(remote: StorageBackend, clock: QueueClock, maxBytes = 0) {
  const metrics = createMetrics('origin', { defaultMetrics: false });
  /** Write-backs so far by result, as the store's metrics count them. */
  const results = async () => {
    const counter = metrics.registry.getSingleMetric('kraken_origin_write_backs_total');
    const values = (await counter?.get())?.values ?? [];
    return Object.fromEntries(values.map(({ labels, value }) => [String(labels.result), value]));
  };
  const cacheDir = join(dir, 'cache');
  const store = createOriginBlobStore({
    cache: createContentCache({ root: cacheDir, maxBytes, lowWatermark: 0.5 }),
    cacheDir,
    backends: {
      default: remote,
      forNamespace: (namespace) => {
        if (namespace.startsWith('forbidden/'))
          throw new NoBackendForNamespaceError(namespace, ['library/.*']);
        return remote;
      },
    },
    writeBack: {
      dbPath: join(dir, 'write-back.db'),
      concurrency: 2,
      clock,
      random: () => 0,
      backoff: { initialMs: 1000 },
    },
    metrics,
  });
  stores.push(store);
  return { store, results, metrics };
}

const blob = (fill: number, size = 1000) => Buffer.alloc(size, fill);
const put = (store: OriginBlobStore, data: Buffer, namespace?: string) =>
  store.write(digestOf(data), Readable.from([data]), {
    size: data.length,
    ...(namespace === undefined ? {} : { namespace }),
  });
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};
const inRemote = async (inner: ContentStore, digest: Digest) => readAll(await inner.read(digest));

describe('origin blob store', () => {
  it('writes back through the queue and unpins the blob once the backend has it', async () => {
    const { remote, inner } = switchableRemote();
    const { store, results } = openStore(remote, manualClock());
    await store.start();
    const data = blob(1);
    expect(await put(store, data, 'library/alpine')).toEqual({ size: 1000, created: true });
    await expect.poll(results).toEqual({ success: 1 });
    expect((await inRemote(inner, digestOf(data))).equals(data)).toBe(true);
    expect(store.writeBackStats()).toMatchObject({ pending: 0, failed: 0 });
    expect(store.cacheUsage()).toMatchObject({ blobs: 1, pinned: 0 });
  });

  it('keeps write-backs pinned while the backend is down, and completes them when it is back', async () => {
    const clock = manualClock();
    const { remote, inner, state } = switchableRemote();
    state.down = true;
    const { store, results } = openStore(remote, clock, 2500);
    await store.start();
    const [a, b, c] = [blob(1), blob(2), blob(3)];
    await put(store, a);
    await put(store, b);
    await put(store, c);
    await settle();
    // Over the high watermark, yet nothing can go: every blob is the only copy.
    expect(store.cacheUsage()).toMatchObject({ blobs: 3, pinned: 3 });
    expect(await results()).toEqual({ retry: 3 });
    expect(store.writeBackStats()).toMatchObject({ pending: 3, oldestPendingAt: 0 });

    state.down = false;
    clock.advance(1000);
    await expect.poll(() => store.writeBackStats().pending).toBe(0);
    for (const data of [a, b, c]) expect((await inRemote(inner, digestOf(data))).equals(data)).toBe(true);
    // Unpinned, the cache falls back under its budget.
    await expect.poll(() => store.cacheUsage().bytes).toBeLessThanOrEqual(2500);
  });

  it('resumes pending write-backs after a restart', async () => {
    const { remote, inner, state } = switchableRemote();
    state.down = true;
    const clock = manualClock();
    const first = openStore(remote, clock);
    await first.store.start();
    const data = blob(4);
    await put(first.store, data, 'team/app');
    await settle();
    await first.store.close();

    state.down = false;
    const second = openStore(remote, clock);
    await second.store.start();
    expect(second.store.cacheUsage().pinned).toBe(1);
    clock.advance(1000);
    await expect.poll(second.results).toEqual({ success: 1 });
    expect((await inRemote(inner, digestOf(data))).equals(data)).toBe(true);
  });

  it('refuses a namespace without a backend before reading the upload', async () => {
    const { remote } = switchableRemote();
    const { store } = openStore(remote, manualClock());
    await store.start();
    const body = Readable.from([blob(5)]);
    await expect(
      store.write(digestOf(blob(5)), body, { namespace: 'forbidden/thing' }),
    ).rejects.toBeInstanceOf(NoBackendForNamespaceError);
    expect(body.readableFlowing).toBe(null);
    expect(store.writeBackStats().pending).toBe(0);
    expect(store.cacheUsage().blobs).toBe(0);
  });

  it('keeps a write-back whose local copy vanished as failed and the blob pinned', async () => {
    const { remote, state } = switchableRemote();
    state.down = true;
    const clock = manualClock();
    const { store, results } = openStore(remote, clock);
    await store.start();
    const data = blob(6);
    await put(store, data);
    await settle();
    await unlink(join(dir, 'cache', blobKey(digestOf(data))));
    state.down = false;
    await store.close();

    const reopened = openStore(remote, clock);
    await reopened.store.start();
    clock.advance(1000);
    await expect.poll(reopened.results).toEqual({ failed: 1 });
    expect(await results()).toEqual({ retry: 1 });
    expect(reopened.store.writeBackJobs()).toEqual([
      expect.objectContaining({ digest: digestOf(data), state: 'failed' }),
    ]);
    expect(reopened.store.cacheUsage().pinned).toBe(1);
  });

  it('adopts a finished upload file by hard link, verified, and writes it back', async () => {
    const { remote, inner } = switchableRemote();
    const { store, results } = openStore(remote, manualClock());
    await store.start();
    const data = blob(8, 3000);
    const file = join(dir, 'upload');
    await writeFile(file, data);
    await expect(store.adoptFile(digestOf('other'), file, { size: 3000 })).rejects.toThrow(/does not match/);
    expect(store.cacheUsage().blobs).toBe(0);
    expect(await store.adoptFile(digestOf(data), file, { size: 3000, namespace: 'team/app' })).toEqual({
      size: 3000,
      created: true,
    });
    const cached = await stat(join(dir, 'cache', blobKey(digestOf(data))));
    expect(cached.ino).toBe((await stat(file)).ino);
    await expect.poll(results).toEqual({ success: 1 });
    expect((await inRemote(inner, digestOf(data))).equals(data)).toBe(true);
  });

  it('reads a blob the cache lacks through from the backend, and caches it', async () => {
    const { remote, inner } = switchableRemote();
    const data = blob(7, 5000);
    await inner.write(digestOf(data), Readable.from([data]));
    const { store } = openStore(remote, manualClock());
    await store.start();
    // It lists what it holds itself, not the backend's content.
    expect((await store.list()).digests).toEqual([]);
    expect(await store.stat(digestOf(data))).toEqual({ size: 5000 });
    expect((await readAll(await store.read(digestOf(data)))).equals(data)).toBe(true);
    await expect.poll(async () => (await store.list()).digests).toEqual([digestOf(data)]);
    expect(store.cacheUsage()).toMatchObject({ blobs: 1, bytes: 5000 });
    expect(store.writeBackStats().pending).toBe(0);
  });

  it('reports the write-back queue, the pinned blobs and the fills in its metrics', async () => {
    const clock = manualClock();
    const { remote, inner, state } = switchableRemote();
    const stored = blob(9, 2000);
    await inner.write(digestOf(stored), Readable.from([stored]));
    state.down = true;
    const { store, metrics, results } = openStore(remote, clock);
    await store.start();
    await put(store, blob(1));
    await settle();
    clock.advance(4000);
    await settle();
    let text = await metrics.registry.metrics();
    expect(text).toContain('kraken_origin_write_backs_total{result="retry"} 2');
    expect(text).toContain('kraken_origin_write_back_queue_depth 1');
    expect(text).toContain('kraken_origin_write_back_failed_jobs 0');
    // Measured on the queue's clock: enqueued at 0, now 4000 ms.
    expect(text).toContain('kraken_origin_write_back_oldest_pending_seconds 4');
    expect(text).toContain('kraken_origin_cache_pinned_blobs 1');
    expect(text).toContain('kraken_origin_read_through_fills_active 0');

    state.down = false;
    expect((await readAll(await store.read(digestOf(stored)))).equals(stored)).toBe(true);
    await expect
      .poll(() => metrics.registry.metrics())
      .toContain('kraken_origin_read_through_fills_total{result="done"} 1');
    clock.advance(4000);
    await expect.poll(results).toEqual({ retry: 2, success: 1 });
    text = await metrics.registry.metrics();
    expect(text).toContain('kraken_origin_write_back_queue_depth 0');
    expect(text).toContain('kraken_origin_write_back_oldest_pending_seconds 0');
    expect(text).toContain('kraken_origin_cache_pinned_blobs 0');
  });
});
