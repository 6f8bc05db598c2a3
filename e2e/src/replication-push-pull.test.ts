/**
 * Cross-cluster replication end to end, two clusters on loopback (a → b by a config
 * rule): an image pushed to a's proxy with skopeo is pulled byte for byte from b's
 * agent, its large layer having crossed from a's origins to b's exactly once; a tag
 * re-pushed with new content on a is served by b's agents within replication + the
 * agents' tag TTL (the default 5 s), ≤ 10 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusters, type Clusters } from './support/cluster.js';
import { metricSum } from './support/prometheus-text.js';
import {
  imageBytes,
  pullImage,
  pushGeneratedImage,
  servedDigest,
  type PushedImage,
} from './support/registry-images.js';
import { drained, ruleStatus } from './support/replication.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const REPO = 'e2e/replicated';

let work: string;
let clusters: Clusters;
let aProxy: string;
let aOrigin: string;
let aBuildIndex: string;
let bOrigin: string;
let bAgent: string;
let first: PushedImage | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-replication-'));
  clusters = await startClusters({
    dir: join(work, 'clusters'),
    clusters: [
      {
        id: 'a',
        agents: 0,
        rules: [{ name: 'to-b', repositories: 'e2e/.*', destination: { cluster: 'b' } }],
      },
      // b's rule matches nothing here; it gives b's build-index its cluster id and queue file.
      {
        id: 'b',
        agents: 1,
        rules: [{ name: 'to-a', repositories: 'none/.*', destination: { cluster: 'a' } }],
      },
    ],
  });
  const a = clusters.cluster('a').endpoints;
  const b = clusters.cluster('b').endpoints;
  [aProxy, aOrigin, aBuildIndex] = [a.proxy[0]!, a.origin[0]!, a['build-index'][0]!];
  [bOrigin, bAgent] = [b.origin[0]!, b.agent[0]!];
});

afterAll(async () => {
  await clusters?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

const sorted = (image: PushedImage) => image.blobs.map((b) => b.digest).sort();

describe('replication a → b', () => {
  it('serves an image pushed to a from b, byte for byte, its layers copied from a once', async () => {
    const aServed = () => metricSum(aOrigin, 'kraken_origin_blob_bytes_served_total');
    const bStored = async () => ({
      blobs: await metricSum(bOrigin, 'kraken_origin_blobs_stored_total'),
      bytes: await metricSum(bOrigin, 'kraken_origin_blob_bytes_stored_total'),
    });
    const servedBefore = await aServed();
    const storedBefore = await bStored();

    // 3 MiB is 24 pieces of 128 KiB: b's agent takes it through b's swarm.
    const largeLayer = 3 * MiB;
    first = await pushGeneratedImage({
      proxy: aProxy,
      dir: join(work, 'first'),
      repo: REPO,
      tag: 'latest',
      layerSizes: [largeLayer, 200 * KiB, KiB],
    });
    await expect
      .poll(() => servedDigest(bAgent, REPO, 'latest'), { timeout: 20_000, interval: 200 })
      .toBe(first.manifest);
    const pulled = await pullImage({
      registry: bAgent,
      repo: REPO,
      tag: 'latest',
      dir: join(work, 'pulled-1'),
    });
    expect(pulled.manifest).toBe(first.manifest);
    expect(pulled.digests).toEqual(sorted(first));

    await expect
      .poll(async () => drained(await ruleStatus(aBuildIndex, 'to-b')), { timeout: 10_000 })
      .toBe(true);
    const status = await ruleStatus(aBuildIndex, 'to-b');
    expect(status).toMatchObject({ done: 1, failed: 0, lagSeconds: 0, destination: { clusterId: 'b' } });
    expect(status.bytesCopied).toBe(imageBytes(first));
    expect(
      await metricSum(aBuildIndex, 'kraken_build_index_replication_bytes_copied_total', { rule: 'to-b' }),
    ).toBe(imageBytes(first));
    expect(
      await metricSum(aBuildIndex, 'kraken_build_index_replication_blobs_total', {
        rule: 'to-b',
        result: 'copied',
      }),
    ).toBe(first.blobs.length);

    // Once: b's origin (b's whole ring) newly stored exactly the closure, each blob once.
    const storedAfter = await bStored();
    expect(storedAfter.blobs - storedBefore.blobs).toBe(first.blobs.length);
    expect(storedAfter.bytes - storedBefore.bytes).toBe(imageBytes(first));
    // ...and a's origin, the one place the layer lives in a, served it once: everything it
    // sent since the push (the copy, plus the manifest read by the push's content check
    // and by the copy's closure walk) is short of the closure plus a second large layer.
    const served = (await aServed()) - servedBefore;
    expect(served).toBeGreaterThanOrEqual(imageBytes(first));
    expect(served).toBeLessThan(imageBytes(first) + largeLayer);
  });

  it("serves a re-pushed tag's new digest from b's agent within replication + tag TTL (≤ 10 s)", async () => {
    expect(first).toBeDefined();
    // b's agent trusts `latest` (the first image) for its tag TTL from here on.
    expect(await servedDigest(bAgent, REPO, 'latest')).toBe(first!.manifest);

    const second = await pushGeneratedImage({
      proxy: aProxy,
      dir: join(work, 'second'),
      repo: REPO,
      tag: 'latest',
      layerSizes: [512 * KiB, KiB],
    });
    const pushedAt = Date.now();
    await expect
      .poll(() => servedDigest(bAgent, REPO, 'latest'), { timeout: 10_000, interval: 100 })
      .toBe(second.manifest);
    expect(Date.now() - pushedAt).toBeLessThanOrEqual(10_000);

    const pulled = await pullImage({
      registry: bAgent,
      repo: REPO,
      tag: 'latest',
      dir: join(work, 'pulled-2'),
    });
    expect(pulled.manifest).toBe(second.manifest);
    expect(pulled.digests).toEqual(sorted(second));
  });
});
