/**
 * Replication a → b through faults on the receiving side:
 * - b's build-index and one of b's two origins are killed (SIGKILL) while a copies
 *   images into b, and restarted: every tag then arrives, and every blob file in b's
 *   origin storage re-hashes to its name, the images' blobs all among them;
 * - b's build-index and origins are down while 20 images are pushed to a: the status
 *   shows the lag and the error; once b is back, all 20 arrive and the lag is 0.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusters, type Cluster, type Clusters } from './support/cluster.js';
import { pushGeneratedImage, pushSmallImage, type PushedImage } from './support/registry-images.js';
import { auditOriginStorage, drained, ruleStatus, tagOn, writeBacksDone } from './support/replication.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Slow enough that a kill lands mid-copy: each image's 6 MiB layer takes 1.5 s. */
const BANDWIDTH = 4 * MiB;

let work: string;
let clusters: Clusters;
let a: Cluster;
let b: Cluster;
let aProxy: string;
let aBuildIndex: string;
let bBuildIndex: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-replication-faults-'));
  clusters = await startClusters({
    dir: join(work, 'clusters'),
    agents: 0,
    clusters: [
      {
        id: 'a',
        rules: [
          {
            name: 'to-b',
            repositories: '(crash|down)/.*',
            destination: { cluster: 'b' },
            bandwidthBytesPerSecond: BANDWIDTH,
          },
        ],
        // One task at a time, so some tags are through when the kill lands and others
        // are not; retries every 0.2 to 2 s, so recovery fits in the test's time.
        overrides: {
          buildIndex: { replication: { concurrency: 1, retry: { initialMs: 200, maxMs: 2_000 } } },
        },
      },
      // Two origins, each blob on both: one of them is killed mid-copy.
      {
        id: 'b',
        origins: 2,
        rules: [{ name: 'to-a', repositories: 'none/.*', destination: { cluster: 'a' } }],
      },
    ],
  });
  a = clusters.cluster('a');
  b = clusters.cluster('b');
  aProxy = a.endpoints.proxy[0]!;
  aBuildIndex = a.endpoints['build-index'][0]!;
  bBuildIndex = b.endpoints['build-index'][0]!;
});

afterAll(async () => {
  await clusters?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

/** Every image's tag resolves on b's build-index to the image's manifest. */
async function allOnB(images: readonly PushedImage[]): Promise<boolean> {
  const found = await Promise.all(images.map((image) => tagOn(bBuildIndex, image.repo, image.tag)));
  return found.every((digest, i) => digest === images[i]!.manifest);
}

describe('replication through faults on the destination', () => {
  it("completes after b's build-index and an origin are killed mid-copy; b's storage re-hashes clean", async () => {
    const images = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        pushGeneratedImage({
          proxy: aProxy,
          dir: join(work, `crash-${i}`),
          repo: `crash/app-${i}`,
          tag: 'v1',
          layerSizes: [6 * MiB, 64 * KiB],
        }),
      ),
    );

    // Mid-replication: at least one tag through, at least one still to go.
    await expect
      .poll(
        async () => {
          const status = await ruleStatus(aBuildIndex, 'to-b');
          return status.done >= 1 && status.pending + status.inFlight >= 1;
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBe(true);
    await Promise.all([
      b.component('build-index-0')!.stop('SIGKILL'),
      b.component('origin-1')!.stop('SIGKILL'),
    ]);
    expect(await allOnB(images)).toBe(false);

    await b.restart('origin-1');
    await b.restart('build-index-0');
    await expect.poll(() => allOnB(images), { timeout: 60_000, interval: 250 }).toBe(true);
    await expect
      .poll(async () => drained(await ruleStatus(aBuildIndex, 'to-b')), { timeout: 10_000 })
      .toBe(true);

    await expect.poll(() => writeBacksDone(b), { timeout: 30_000, interval: 250 }).toBe(true);
    const audit = await auditOriginStorage(b);
    expect(audit.problems).toEqual([]);
    for (const image of images) for (const blob of image.blobs) expect(audit.blobs).toContain(blob.digest);
  });

  it('brings 20 images pushed while b was down across once b is back, lag back to 0', async () => {
    const down = ['build-index-0', 'origin-0', 'origin-1'];
    for (const name of down) await b.component(name)!.stop();

    const images: PushedImage[] = [];
    for (let i = 0; i < 20; i++) images.push(await pushSmallImage(aProxy, `down/app-${i}`, 'v1'));

    // Behind, and saying why.
    await expect
      .poll(
        async () => {
          const status = await ruleStatus(aBuildIndex, 'to-b');
          return status.failed >= 1 && status.lagSeconds >= 1 && status.lastError !== null;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);
    const behind = await ruleStatus(aBuildIndex, 'to-b');
    // Failing tasks are queued too: `failed` counts those of `pending` waiting for a retry.
    expect(behind.pending + behind.inFlight).toBe(20);
    expect(behind.lastError!.repository).toMatch(/^down\/app-\d+$/);

    for (const name of ['origin-0', 'origin-1', 'build-index-0']) await b.restart(name);
    await expect.poll(() => allOnB(images), { timeout: 60_000, interval: 250 }).toBe(true);
    await expect
      .poll(
        async () => {
          const status = await ruleStatus(aBuildIndex, 'to-b');
          return drained(status) && status.lagSeconds === 0;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
  });
});
