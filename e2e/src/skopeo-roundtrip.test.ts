/**
 * A real image moves end to end: generated as an OCI layout (several layers, one of
 * 100 MiB of random bytes), pushed with skopeo to the proxy, pulled with skopeo from
 * every agent, and compared digest by digest; the large layer travels through the P2P
 * swarm. The same for a multi-arch index.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStatus } from './support/swarm.js';
import { startCluster, hostOf, type Cluster } from './support/cluster.js';
import { generateImage, generateMultiArchImage } from './support/oci-layout.js';
import { layoutBlobDigests, layoutTopDigest } from './support/oci-layout-reader.js';
import { skopeoCopy } from './support/skopeo.js';

const MiB = 1024 * 1024;
let work: string;
let cluster: Cluster;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-'));
  cluster = await startCluster({ dir: join(work, 'cluster'), agents: 2 });
});

afterAll(async () => {
  await cluster?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

describe('skopeo round trip through proxy and agents', () => {
  it('copies a single-platform image with a 100 MiB layer byte for byte', async () => {
    const src = join(work, 'image');
    const image = await generateImage(src, 'v1', [100 * MiB, 3 * MiB, 512 * 1024, 1024]);
    const proxy = hostOf(cluster.endpoints.proxy[0]!);
    await skopeoCopy(`oci:${src}:v1`, `docker://${proxy}/e2e/big-image:v1`);

    const expected = [...image.digests].sort();
    for (const [i, agentUrl] of cluster.endpoints.agent.entries()) {
      const out = join(work, `pulled-${i}`);
      await skopeoCopy(`docker://${hostOf(agentUrl)}/e2e/big-image:v1`, `oci:${out}:v1`);
      expect(await layoutTopDigest(out)).toBe(image.manifest.digest);
      expect(await layoutBlobDigests(out)).toEqual(expected);
    }

    // The 100 MiB layer came through the swarm on both agents: the first from the
    // origin seeding it, the second from the origin and from the first agent.
    const bigLayer = image.digests[1]!;
    const statuses = await Promise.all(cluster.endpoints.agent.map((agent) => blobStatus(agent, bigLayer)));
    for (const status of statuses) {
      expect(status).toMatchObject({ source: 'swarm', state: 'done', cached: true });
      expect(status?.piecesDone).toBe(status?.pieceCount);
      expect((status?.bytesFromPeers ?? 0) + (status?.bytesFromOrigins ?? 0)).toBeGreaterThanOrEqual(
        100 * MiB,
      );
    }
    expect(statuses[0]?.bytesFromOrigins).toBeGreaterThan(0);
    expect(statuses[1]?.bytesFromPeers).toBeGreaterThan(0);
    for (const agent of cluster.endpoints.agent) {
      const metrics = await (await fetch(`${agent}/metrics`)).text();
      // The 100 MiB, 3 MiB and 512 KiB layers span several 128 KiB pieces; the 1 KiB
      // layer and the config are single-piece blobs, fetched straight from an origin.
      expect(metrics).toMatch(/kraken_agent_blob_fetches_total\{path="swarm",result="ok"\} 3\b/);
      expect(metrics).toMatch(/kraken_agent_blob_fetches_total\{path="direct",result="ok"\} 2\b/);
    }
    // Agents and origins announce their blobs in batches: once every node's blobs have met
    // on its announce tick (within 1.5 intervals of 3 s), the tracker counts more announces
    // than announce requests.
    const tracker = cluster.endpoints.tracker[0]!;
    const count = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    let requests = 0;
    let announces = 0;
    let batches = 0;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const text = await (await fetch(`${tracker}/metrics`)).text();
      announces = count(text, /^kraken_tracker_announces_total\{result="ok"\} (\d+)$/m);
      const requestsTo = (route: string) =>
        count(
          text,
          new RegExp(
            `^kraken_tracker_http_request_duration_seconds_count\\{method="POST",route="${route}",status="200"\\} (\\d+)$`,
            'm',
          ),
        );
      batches = requestsTo('/v1/announce/batch');
      requests = batches + requestsTo('/v1/announce');
      if (batches > 0 && announces >= 2 * requests) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(batches).toBeGreaterThan(0);
    expect(announces).toBeGreaterThanOrEqual(2 * requests);
  });

  it('copies a multi-arch index with every platform', async () => {
    const src = join(work, 'multi');
    const image = await generateMultiArchImage(
      src,
      'multi',
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux' },
      ],
      [2 * MiB, 4096],
    );
    const proxy = hostOf(cluster.endpoints.proxy[0]!);
    await skopeoCopy(`oci:${src}:multi`, `docker://${proxy}/e2e/multi-arch:multi`, ['--all']);

    const agent = hostOf(cluster.endpoints.agent[1]!);
    const out = join(work, 'multi-pulled');
    await skopeoCopy(`docker://${agent}/e2e/multi-arch:multi`, `oci:${out}:multi`, ['--all']);
    expect(await layoutTopDigest(out)).toBe(image.manifest.digest);
    expect(await layoutBlobDigests(out)).toEqual([...image.digests].sort());
  });
});
