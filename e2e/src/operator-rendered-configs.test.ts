/**
 * The configs the operator renders actually run: a small KrakenCluster (2 origins,
 * 1 tracker, 2 build-index nodes, a proxy, an agent) rendered with renderComponentConfigs,
 * its in-cluster addresses mapped to loopback ports, each component started as a process
 * from its rendered YAML. An image pushed with skopeo through the proxy comes back from
 * the agent with the same digests, its large layer through the swarm (the tracker and the
 * origins' P2P as rendered), and both build-index nodes hold its tag (the rendered peers).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@kraken/devcluster';
import type { KrakenCluster } from '@kraken/operator';
import { waitFor } from './support/kube/index.js';
import { startRenderedCluster, type RenderedCluster } from './support/operator/rendered-cluster.js';
import { metricSum } from './support/prometheus-text.js';
import { pullImage, pushGeneratedImage } from './support/registry-images.js';
import { tagOn } from './support/replication.js';

const MiB = 1024 * 1024;

let work: string;
let cluster: RenderedCluster;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-rendered-'));
  const kc: KrakenCluster = {
    apiVersion: 'kraken.dev/v1alpha1',
    kind: 'KrakenCluster',
    metadata: { name: 'reg', namespace: 'registry', uid: 'uid-reg', generation: 1 },
    spec: {
      image: 'registry.example.com/kraken:0.1.0',
      logLevel: 'warn',
      origins: { replicas: 2, ringReplicas: 2, cacheSize: '1Gi', volume: { size: '2Gi' } },
      trackers: { replicas: 1 },
      buildIndex: { replicas: 2 },
      proxy: { replicas: 1 },
      // A node's ports, which no address mapping moves: free ones here.
      agents: {
        registryPort: await freePort(),
        p2pPort: await freePort(),
        cache: { size: '1Gi' },
        pushRegistries: ['registry.example.com'],
      },
    },
  };
  cluster = await startRenderedCluster(kc, join(work, 'cluster'));
});

afterAll(async () => {
  await cluster?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

describe('a cluster from the configs the operator renders', () => {
  it('runs each member at its mapped address, with its ring as rendered', () => {
    expect(cluster.members.map((m) => m.name).sort()).toEqual([
      'agent',
      'build-index-0',
      'build-index-1',
      'origin-0',
      'origin-1',
      'proxy',
      'tracker-0',
    ]);
    // Every ring lists the mapped members, not a pod DNS name that resolves nowhere here.
    const mapped = new Set(Object.values(cluster.addresses));
    for (const config of [...cluster.configs.origins, cluster.configs.proxy, cluster.configs.agent])
      for (const node of config.origins?.nodes ?? []) expect(mapped).toContain(node);
    expect(cluster.configs.agent.trackers?.nodes).toEqual([cluster.trackers[0]?.slice('http://'.length)]);
  });

  it('round-trips an image pushed through the proxy and pulled through the agent', async () => {
    const repo = 'rendered/app';
    const pushed = await pushGeneratedImage({
      proxy: cluster.proxy,
      dir: join(work, 'push'),
      repo,
      tag: 'v1',
      // 3 MiB is 24 pieces: the agent takes it from the origins' seeds through the swarm.
      layerSizes: [3 * MiB, 4096],
    });
    // The proxy writes the tag to one node; the other has it from its rendered peers.
    for (const buildIndex of cluster.buildIndex)
      await waitFor(() => tagOn(buildIndex, repo, 'v1'), {
        what: `${repo}:v1 on ${buildIndex}`,
        timeoutMs: 10_000,
        until: (digest) => digest === pushed.manifest,
      });

    const pulled = await pullImage({ registry: cluster.agent, repo, tag: 'v1', dir: join(work, 'pull') });
    expect(pulled.manifest).toBe(pushed.manifest);
    expect(pulled.digests.sort()).toEqual(pushed.blobs.map((b) => b.digest).sort());
    expect(
      await metricSum(cluster.agent, 'kraken_agent_blob_fetches_total', { path: 'swarm', result: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(await metricSum(cluster.agent, 'kraken_agent_swarm_bytes_total')).toBeGreaterThanOrEqual(3 * MiB);
  });
});
