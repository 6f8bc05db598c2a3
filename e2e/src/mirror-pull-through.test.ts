/**
 * The agent as a containerd mirror of upstream registries, over real processes: Debian's
 * docker-registry stands in for docker.io, the devcluster mirrors it (origins pull
 * through, agents answer `?ns=docker.io`). Requests are sent as containerd sends them to
 * a hosts.toml mirror; the upstream's own access log is the witness of what reached it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { digestOf } from '@kraken/oci-content';
import { startDockerRegistry, type DockerRegistry } from '@kraken/storage-backends/testing';
import { startScriptedUpstream, type ScriptedUpstream } from '@kraken/origin/testing';
import { hostOf, startCluster, type Cluster } from './support/cluster.js';
import { generateImage } from './support/oci-layout.js';
import { skopeoCopy } from './support/skopeo.js';
import { metricSum } from './support/prometheus-text.js';

const MiB = 1024 * 1024;
const REPO = 'library/app';
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

let work: string;
let upstream: DockerRegistry;
let scripted: ScriptedUpstream;
let cluster: Cluster;
let image: { manifest: string; blobs: string[] };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function get(
  base: string,
  path: string,
  ns = 'docker.io',
  method: 'GET' | 'HEAD' = 'GET',
): Promise<Answer> {
  const res = await request(`${base}/v2/${path}?ns=${ns}`, { method, headers: { accept: ACCEPT } });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** What containerd does for one pull: resolve the tag, fetch the manifest, fetch every blob. */
async function pull(
  agent: string,
  tag = 'v1',
  ns = 'docker.io',
): Promise<{ digest: string; stale: boolean }> {
  const head = await get(agent, `${REPO}/manifests/${tag}`, ns, 'HEAD');
  expect(head.status).toBe(200);
  const digest = String(head.headers['docker-content-digest']);
  const manifest = await get(agent, `${REPO}/manifests/${digest}`, ns);
  expect(manifest.status).toBe(200);
  expect(digestOf(manifest.body).value).toBe(digest);
  const parsed = JSON.parse(manifest.body.toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  await Promise.all(
    [parsed.config, ...parsed.layers].map(async ({ digest: blob }) => {
      const res = await get(agent, `${REPO}/blobs/${blob}`, ns);
      expect(res.status).toBe(200);
      expect(digestOf(res.body).value).toBe(blob);
    }),
  );
  return { digest, stale: head.headers.warning !== undefined };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-mirror-'));
  upstream = await startDockerRegistry({
    dir: join(work, 'upstream'),
    auth: { kind: 'none' },
    accessLog: true,
  });
  const layout = join(work, 'layout');
  const generated = await generateImage(layout, 'v1', [4 * MiB, 64 * 1024]);
  await skopeoCopy(`oci:${layout}:v1`, `docker://${hostOf(upstream.url)}/${REPO}:v1`, [
    '--dest-tls-verify=false',
  ]);
  image = {
    manifest: generated.manifest.digest,
    blobs: generated.digests.filter((d) => d !== generated.manifest.digest),
  };
  scripted = await startScriptedUpstream();
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: 4,
    upstreams: [
      { name: 'docker.io', url: upstream.url, tagCacheSeconds: 2 },
      {
        name: 'ghcr.io',
        url: scripted.url,
        tagCacheSeconds: 0,
        resilience: { retry: { maxAttempts: 1 }, timeouts: { operationMs: 1000, firstByteMs: 1000 } },
      },
    ],
    overrides: {
      agent: {
        mirror: {
          upstreams: [
            { name: 'docker.io', tagTtlSeconds: 1 },
            { name: 'ghcr.io', tagTtlSeconds: 0 },
          ],
          staleIfErrorSeconds: 3600,
        },
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await upstream?.stop();
  await scripted?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('agent mirror mode with pull-through', () => {
  it('serves a cold pull by four agents at once with one upstream GET per blob', async () => {
    const agents = cluster.endpoints.agent;
    const results = await Promise.all(agents.map((agent) => pull(agent)));
    expect(results.map((r) => r.digest)).toEqual(Array(4).fill(image.manifest));

    const gets = (await upstream.requests()).filter((r) => r.method === 'GET' && r.status === 200);
    for (const blob of image.blobs)
      expect(
        gets.filter((r) => r.path === `/v2/${REPO}/blobs/${blob}`),
        blob,
      ).toHaveLength(1);
    expect(gets.filter((r) => r.path === `/v2/${REPO}/manifests/${image.manifest}`)).toHaveLength(1);
    // Each agent resolved the tag itself (through the origins), and the large layer came
    // through the swarm: mostly from the other agents, the rest from the origin's fill.
    let fromPeers = 0;
    for (const agent of agents) {
      expect(
        await metricSum(agent, 'kraken_agent_mirror_tag_resolutions_total', { registry: 'docker.io' }),
      ).toBeGreaterThan(0);
      const statuses = await Promise.all(
        image.blobs.map(async (blob) => {
          const res = await request(`${agent}/v1/blobs/${blob}/status`);
          return (await res.body.json()) as { cached: boolean; source: string; bytesFromPeers?: number };
        }),
      );
      expect(statuses.every((s) => s.cached)).toBe(true);
      const swarmed = statuses.filter((s) => s.source === 'swarm');
      expect(swarmed).toHaveLength(1);
      fromPeers += swarmed[0]?.bytesFromPeers ?? 0;
    }
    expect(fromPeers).toBeGreaterThan(4 * MiB);
  });

  it('keeps serving the image from the cluster, marked stale, when the upstream is gone', async () => {
    const [agent0, , , agent3] = cluster.endpoints.agent;
    await upstream.stop();
    await new Promise((r) => setTimeout(r, 2_500)); // past the origin's tag cache window
    const first = await pull(agent3!);
    expect(first.digest).toBe(image.manifest);
    expect(first.stale).toBe(true);
    const status = await request(`${agent3}/v1/mirror/status`);
    const body = (await status.body.json()) as { upstreams: { name: string; staleAnswers: number }[] };
    expect(body.upstreams.find((u) => u.name === 'docker.io')?.staleAnswers).toBeGreaterThan(0);
    // Digests need no upstream at all.
    expect((await get(agent0!, `${REPO}/manifests/${image.manifest}`)).status).toBe(200);
  });

  it('answers registries it does not mirror at once, and refuses a malformed ns', async () => {
    const agent = cluster.endpoints.agent[0]!;
    const started = performance.now();
    const unlisted = await get(agent, `${REPO}/manifests/v1`, 'quay.io');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(unlisted.status).toBe(404);
    expect(JSON.parse(unlisted.body.toString())).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
    const malformed = await get(agent, `${REPO}/manifests/v1`, 'not..a..host');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body.toString())).toMatchObject({ errors: [{ code: 'NAME_INVALID' }] });
  });

  it('caches nothing of an upstream manifest that does not match its digest, and keeps serving', async () => {
    const agent = cluster.endpoints.agent[1]!;
    const liar = scripted.addImage('org/liar', 'v1', Buffer.from('liar layer'));
    scripted.lie(liar);
    const head = await get(agent, 'org/liar/manifests/v1', 'ghcr.io', 'HEAD');
    expect(head.status).toBeGreaterThanOrEqual(500);
    const byDigest = await get(agent, `org/liar/manifests/${liar.manifest.value}`, 'ghcr.io');
    expect(byDigest.status).toBeGreaterThanOrEqual(500);
    const honest = scripted.addImage('org/honest', 'v1', Buffer.from('honest layer'));
    const ok = await get(agent, 'org/honest/manifests/v1', 'ghcr.io');
    expect(ok.status).toBe(200);
    expect(digestOf(ok.body).value).toBe(honest.manifest.value);
  });

  it('answers with an error, not a hang, when the upstream hangs, and recovers', async () => {
    const agent = cluster.endpoints.agent[2]!;
    const slow = scripted.addImage('org/slow', 'v1', Buffer.from('slow layer'));
    scripted.mode = 'hang';
    const hung = await get(agent, 'org/slow/manifests/v1', 'ghcr.io', 'HEAD');
    expect(hung.status).toBeGreaterThanOrEqual(500);
    scripted.mode = 'up';
    const ok = await get(agent, 'org/slow/manifests/v1', 'ghcr.io', 'HEAD');
    expect(ok.status).toBe(200);
    expect(ok.headers['docker-content-digest']).toBe(slow.manifest.value);
  });
});
