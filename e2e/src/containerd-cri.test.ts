/**
 * Real containerd (Debian's 1.6 and a 2.x build) pulling through its CRI image service,
 * driven by crictl as kubelet drives it, with the hosts.toml files `kraken agent
 * setup-containerd` writes pointing at agents of a devcluster in mirror mode. Images are
 * pulled by their upstream names; Debian's docker-registry stands in for docker.io and for
 * private registries with basic and token auth, whose credentials only the origins hold.
 * The upstreams' access logs show what reached them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startDockerRegistry,
  type DockerRegistry,
  type RegistryRequest,
} from '@kraken/storage-backends/testing';
import { buildContainerImage, pushContainerImage } from './support/container-image.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { startContainerd, type Containerd, type ContainerdVersion } from './support/containerd.js';
import { metricSum } from './support/prometheus-text.js';
import type { PushedImage } from './support/registry-images.js';
import { hostsTomlPath, pointServerAt, runSetupContainerd } from './support/setup-containerd.js';
import {
  blobPath,
  countRequests,
  manifestPath,
  startUpstreams,
  UPSTREAM_CREDENTIALS,
  type UpstreamName,
  type Upstreams,
} from './support/upstream-registries.js';

let work: string;
let upstreams: Upstreams;
let cluster: Cluster;
/** An upstream of its own, named quay.io, that a test stops for good. */
let doomed: DockerRegistry;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-cri-'));
  upstreams = await startUpstreams();
  doomed = await startDockerRegistry({ dir: join(work, 'doomed'), auth: { kind: 'none' }, accessLog: true });
  // Only the origins hold the private registries' credentials; nodes need none.
  const credentialsFile = join(work, 'upstream-credentials.json');
  await writeFile(credentialsFile, JSON.stringify(UPSTREAM_CREDENTIALS), { mode: 0o600 });
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: 3,
    upstreams: [
      { name: 'docker.io', url: upstreams.hub.registry.url },
      { name: upstreams.basic.host, url: upstreams.basic.registry.url, credentialsFile },
      { name: upstreams.token.host, url: upstreams.token.registry.url, credentialsFile },
      { name: 'quay.io', url: doomed.url },
    ],
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await upstreams?.stop();
  await doomed?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The requests containerd itself sent (not the origins' fetches). */
function fromContainerd(requests: readonly RegistryRequest[]): RegistryRequest[] {
  return requests.filter((r) => r.userAgent.startsWith('containerd/'));
}

/** Config and layers: what a pull GETs by digest, besides the manifest. */
function pulledBlobs(image: PushedImage): string[] {
  return image.blobs.filter((b) => b.digest !== image.manifest).map((b) => b.digest);
}

async function repoDigests(containerd: Containerd, ref: string): Promise<string[]> {
  const { stdout } = await containerd.crictl(['inspecti', '-o', 'json', ref]);
  return (JSON.parse(stdout) as { status: { repoDigests: string[] } }).status.repoDigests;
}

const fetchedBytes = (agent: string) => metricSum(agent, 'kraken_agent_blob_fetch_bytes_total');

describe.each<ContainerdVersion>(['1.6', '2'])('containerd %s pulling through a kraken agent', (version) => {
  let containerd: Containerd;
  // Repositories differ per version: both blocks share the upstreams and their logs.
  const repo = (name: string) => `${name}-v${version.replace('.', '')}`;
  const seed = (upstream: UpstreamName, name: string) =>
    upstreams.seed({ upstream, repo: repo(name), tag: 'v1', layerSizes: [8 * 1024, 24 * 1024, 600 * 1024] });
  const agentOf = () => cluster.endpoints.agent[version === '1.6' ? 0 : 1]!;

  beforeAll(async () => {
    containerd = await startContainerd({ version });
  });

  afterAll(async () => {
    await containerd?.stop();
  });

  /** setup-containerd with `agent` first for `registry`; docker.io's server then points at its stand-in. */
  async function mirrorThrough(agent: string, registry: string): Promise<void> {
    const setup = await runSetupContainerd({ containerd, mirror: agent, registries: [registry] });
    expect(setup, setup.stderr).toMatchObject({ code: 0 });
    const server =
      registry === 'docker.io'
        ? upstreams.hub.registry.url
        : registry === 'quay.io'
          ? doomed.url
          : `http://${registry}`;
    await pointServerAt({ certsDir: containerd.certsDir, registry, url: server });
  }

  it('setup-containerd accepts our config.toml and writes the agent first', async () => {
    await mirrorThrough(agentOf(), 'docker.io');
    const toml = await readFile(hostsTomlPath(containerd.certsDir, 'docker.io'), 'utf8');
    expect(toml).toContain(`[host."${agentOf()}"]`);
    expect(toml).toContain('capabilities = ["pull", "resolve"]');
    expect(toml).toContain('dial_timeout = "500ms"');
  });

  it('crictl pulls a docker.io image through the agent; the upstream serves each blob once', async () => {
    const image = await seed('hub', 'library/alpha');
    await mirrorThrough(agentOf(), 'docker.io');
    const before = await fetchedBytes(agentOf());
    const ref = `docker.io/${image.repo}:v1`;

    await containerd.crictl(['pull', ref]);

    expect(await repoDigests(containerd, ref)).toContain(`docker.io/${image.repo}@${image.manifest}`);
    const atUpstream = await upstreams.hub.registry.requests();
    expect(fromContainerd(atUpstream).filter((r) => r.path.startsWith(`/v2/${image.repo}/`))).toEqual([]);
    for (const digest of pulledBlobs(image))
      expect(countRequests(atUpstream, 'GET', blobPath(image.repo, digest)), digest).toBe(1);
    expect(countRequests(atUpstream, 'GET', manifestPath(image.repo, image.manifest))).toBe(1);
    expect(await fetchedBytes(agentOf())).toBeGreaterThan(before);
    expect(
      await metricSum(agentOf(), 'kraken_agent_mirror_tag_resolutions_total', { registry: 'docker.io' }),
    ).toBeGreaterThan(0);
    if (version === '2') expect(containerd.logs()).toContain('using transfer service');
  });

  it('falls back to the registry itself when the agent is down', async () => {
    const image = await seed('hub', 'library/beta');
    const agent = cluster.component('agent-2')!;
    await mirrorThrough(agent.url, 'docker.io');
    await agent.stop();
    try {
      const ref = `docker.io/${image.repo}:v1`;
      await containerd.crictl(['pull', ref]);
      expect(await repoDigests(containerd, ref)).toContain(`docker.io/${image.repo}@${image.manifest}`);
      const direct = fromContainerd(await upstreams.hub.registry.requests());
      for (const digest of pulledBlobs(image))
        expect(countRequests(direct, 'GET', blobPath(image.repo, digest)), digest).toBe(1);
    } finally {
      await cluster.restart('agent-2');
    }
  });

  it('pulls private images (basic and token auth) through the agent with no credentials on the node', async () => {
    for (const name of ['basic', 'token'] as const) {
      const upstream = upstreams[name];
      const image = await seed(name, `private/${name}`);
      await mirrorThrough(agentOf(), upstream.host);
      const ref = `${upstream.host}/${image.repo}:v1`;

      await containerd.crictl(['pull', ref]);

      expect(await repoDigests(containerd, ref), name).toContain(
        `${upstream.host}/${image.repo}@${image.manifest}`,
      );
      const atUpstream = await upstream.registry.requests();
      expect(fromContainerd(atUpstream).filter((r) => r.path.startsWith(`/v2/${image.repo}/`))).toEqual([]);
      for (const digest of pulledBlobs(image))
        expect(countRequests(atUpstream, 'GET', blobPath(image.repo, digest)), digest).toBe(1);
    }
    expect(upstreams.token.tokens.issued).toContain(`repository:${repo('private/token')}:pull`);
  });

  if (version === '2') {
    it('pulls an image on a second node from the cluster once its upstream is gone', async () => {
      const image = await pushContainerImage({
        registry: doomed.url,
        repo: 'org/app',
        tag: 'v1',
        image: buildContainerImage('org/app:v1', [16 * 1024, 300 * 1024]),
        authorize: async () => undefined,
      });
      const ref = `quay.io/${image.repo}:v1`;
      await mirrorThrough(cluster.endpoints.agent[0]!, 'quay.io');
      await containerd.crictl(['pull', ref]);
      await doomed.stop();
      // Another node: its own agent, and an image store without the image.
      await containerd.crictl(['rmi', ref]);
      await mirrorThrough(cluster.endpoints.agent[2]!, 'quay.io');
      await containerd.crictl(['pull', ref]);
      expect(await repoDigests(containerd, ref)).toContain(`quay.io/${image.repo}@${image.manifest}`);
    });

    // ctr 2.x pulls through containerd's transfer service, which reads hosts.toml only from
    // the directory the client names (`ctr --hosts-dir`); CRI names its own registry
    // config_path, and the transfer plugin's own `config_path` setting is not used.
    it('ctr image pull (transfer service) uses the agent given --hosts-dir, and no hosts.toml without it', async () => {
      const image = await seed('hub', 'library/delta');
      await mirrorThrough(agentOf(), 'docker.io');
      await containerd.ctr([
        'image',
        'pull',
        '--hosts-dir',
        containerd.certsDir,
        `docker.io/${image.repo}:v1`,
      ]);
      const atUpstream = await upstreams.hub.registry.requests();
      expect(fromContainerd(atUpstream).filter((r) => r.path.startsWith(`/v2/${image.repo}/`))).toEqual([]);

      const other = await seed('hub', 'team/epsilon');
      await mirrorThrough(agentOf(), upstreams.hub.host);
      await containerd.ctr(['image', 'pull', '--plain-http', `${upstreams.hub.host}/${other.repo}:v1`]);
      const direct = fromContainerd(await upstreams.hub.registry.requests());
      expect(countRequests(direct, 'GET', blobPath(other.repo, pulledBlobs(other)[0] ?? ''))).toBe(1);
    });
  }
});
