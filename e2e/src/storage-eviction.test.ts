/**
 * The origin's cache under a small disk budget while pulls go on, MinIO behind it:
 * blobs written back are evicted past the high watermark and read through again on
 * demand, no pull fails, and blobs still waiting for their write-back (MinIO down) are
 * never evicted, even past the budget.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';
import { metric, pullDigest, putBlob, randomBlob } from './support/origin-storage.js';

const KiB = 1024;
const BUDGET = 2048 * KiB;

let work: string;
let cluster: Cluster;
let origin: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-eviction-'));
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: 0,
    storage: 's3',
    overrides: {
      origin: {
        cache: { maxBytes: BUDGET, highWatermark: 0.9, lowWatermark: 0.5 },
        writeBack: { backoff: { initialMs: 100, maxMs: 500 } },
      },
    },
  });
  origin = cluster.endpoints.origin[0]!;
});

afterAll(async () => {
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

const depth = () => metric(origin, 'kraken_origin_write_back_queue_depth');
const cacheBytes = () => metric(origin, 'kraken_origin_cache_bytes');

describe('origin cache eviction', () => {
  it('evicts written-back blobs and reads them through again while pulls go on, failing none', async () => {
    const blobs = Array.from({ length: 12 }, () => randomBlob(256 * KiB));
    for (const blob of blobs) await putBlob(origin, blob, 'e2e/eviction');
    await expect.poll(depth, { timeout: 30_000, interval: 200 }).toBe(0);
    await expect.poll(() => metric(origin, 'kraken_origin_cache_evictions_total')).toBeGreaterThan(0);

    // Four clients pull every blob three times over, in different orders.
    const client = async (offset: number) => {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < blobs.length; i++) {
          const blob = blobs[(i * (offset + 1) + round) % blobs.length]!;
          expect(await pullDigest(origin, blob.digest)).toBe(blob.digest.value);
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(client));
    expect(await metric(origin, 'kraken_origin_read_through_fills_total{result="done"}')).toBeGreaterThan(0);
    expect(await metric(origin, 'kraken_origin_read_through_fills_total{result="corrupt"}')).toBe(0);
    await expect.poll(cacheBytes).toBeLessThanOrEqual(BUDGET * 0.9);
  });

  it('never evicts blobs waiting for their write-back, even past the budget', async () => {
    await cluster.minio!.stop();
    const waiting = Array.from({ length: 10 }, () => randomBlob(256 * KiB));
    for (const blob of waiting) await putBlob(origin, blob, 'e2e/pinned');
    expect(await metric(origin, 'kraken_origin_cache_pinned_blobs')).toBe(10);
    expect(await cacheBytes()).toBeGreaterThan(BUDGET);
    // The backend is away: each of them is served from the origin's own copy.
    for (const blob of waiting) expect(await pullDigest(origin, blob.digest)).toBe(blob.digest.value);

    await cluster.minio!.start();
    await expect.poll(depth, { timeout: 30_000, interval: 200 }).toBe(0);
    await expect.poll(cacheBytes).toBeLessThanOrEqual(BUDGET * 0.9);
    for (const blob of waiting) expect(await pullDigest(origin, blob.digest)).toBe(blob.digest.value);
    // A reply ends only once its fill verified; let the last ones finish before shutdown.
    await expect.poll(() => metric(origin, 'kraken_origin_read_through_fills_active')).toBe(0);
  });
});
