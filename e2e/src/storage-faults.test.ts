/**
 * The origin's storage under faults, with real processes and MinIO as the backend:
 * - MinIO goes down while blobs are pushed; their write-backs wait (the blobs stay
 *   pinned and served) and complete once it is back;
 * - the origin is killed (SIGKILL) with write-backs pending; restarted, it completes them;
 * - afterwards every pushed blob is in MinIO, its digest recomputed from MinIO's bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageBackend } from '@kraken/storage-backends';
import { startCluster, type Cluster } from './support/cluster.js';
import {
  backendDigests,
  metric,
  minioBackend,
  pullDigest,
  putBlob,
  randomBlob,
  type TestBlob,
} from './support/origin-storage.js';

let work: string;
let cluster: Cluster;
let origin: string;
let backend: StorageBackend;
const pushed: TestBlob[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-storage-'));
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: 0,
    storage: 's3',
    // Retries every few hundred ms, so an outage ends in the test's time.
    overrides: { origin: { writeBack: { backoff: { initialMs: 100, maxMs: 500 } } } },
  });
  origin = cluster.endpoints.origin[0]!;
  backend = minioBackend(cluster.minio!.url, 'origin');
});

afterAll(async () => {
  await backend?.close();
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

const depth = () => metric(origin, 'kraken_origin_write_back_queue_depth');

describe('origin storage faults', () => {
  it('queues write-backs while the backend is down and completes them when it is back', async () => {
    await cluster.minio!.stop();
    const blobs = [randomBlob(300_000), randomBlob(50_000), randomBlob(1)];
    for (const blob of blobs) await putBlob(origin, blob, 'e2e/outage');
    pushed.push(...blobs);
    // Accepted and served from the origin's cache while the backend is away.
    for (const blob of blobs) expect(await pullDigest(origin, blob.digest)).toBe(blob.digest.value);
    await expect
      .poll(() => metric(origin, 'kraken_origin_write_backs_total{result="retry"}'))
      .toBeGreaterThan(0);
    expect(await depth()).toBe(3);
    expect(await metric(origin, 'kraken_origin_write_back_oldest_pending_seconds')).toBeGreaterThan(0);
    expect(await metric(origin, 'kraken_origin_cache_pinned_blobs')).toBe(3);

    await cluster.minio!.start();
    await expect.poll(depth, { timeout: 30_000, interval: 200 }).toBe(0);
    expect(await metric(origin, 'kraken_origin_write_backs_total{result="success"}')).toBe(3);
    expect(await metric(origin, 'kraken_origin_cache_pinned_blobs')).toBe(0);
    expect(
      await backendDigests(
        backend,
        blobs.map((b) => b.digest),
      ),
    ).toEqual(blobs.map((b) => b.digest.value));
  });

  it('completes write-backs pending when the origin was killed, after its restart', async () => {
    await cluster.minio!.stop();
    const blobs = [randomBlob(200_000), randomBlob(70_000)];
    for (const blob of blobs) await putBlob(origin, blob, 'e2e/crash');
    pushed.push(...blobs);
    expect(await depth()).toBe(2);
    await cluster.component('origin-0')!.stop('SIGKILL');
    await cluster.minio!.start();
    await cluster.restart('origin-0');
    await expect.poll(depth, { timeout: 30_000, interval: 200 }).toBe(0);
    expect(await metric(origin, 'kraken_origin_write_back_failed_jobs')).toBe(0);
  });

  it('holds every pushed blob in the backend, with its digest', async () => {
    const digests = pushed.map((b) => b.digest);
    expect(await backendDigests(backend, digests)).toEqual(digests.map((d) => d.value));
  });
});
