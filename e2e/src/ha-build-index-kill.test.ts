/**
 * Two build-index nodes: a tag pushed through the proxy is on both before the push
 * returns, so killing (SIGKILL) the node that accepted it right after the push loses
 * nothing and blocks no pull: the tag still resolves through every agent. A node that
 * was down while a tag was pushed catches up when it starts again, so the tag then
 * survives the loss of the other node too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, MediaType } from '@kraken/oci-content';
import { startCluster, type Cluster } from './support/cluster.js';

let work: string;
let cluster: Cluster;
let proxy: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-ha-build-index-'));
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: 2,
    buildIndexes: 2,
    // Agents re-resolve tags at once, so every check below reaches a build-index.
    overrides: { agent: { cache: { tagTtlSeconds: 0 } } },
  });
  proxy = cluster.endpoints.proxy[0]!;
});

afterAll(async () => {
  await cluster?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

async function pushBlob(repo: string, content: Buffer): Promise<void> {
  const digest = digestOf(content).value;
  const res = await fetch(`${proxy}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    body: content,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(res.status).toBe(201);
}

/** Pushes a one-layer image under `repo:tag` through the proxy; returns the manifest digest. */
async function pushImage(repo: string, tag: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
  const layer = Buffer.from(`layer of ${repo}:${tag}`);
  await pushBlob(repo, config);
  await pushBlob(repo, layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: digestOf(config).value, size: config.byteLength },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: digestOf(layer).value,
          size: layer.byteLength,
        },
      ],
    }),
  );
  const res = await fetch(`${proxy}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': MediaType.ociManifest },
  });
  expect(res.status).toBe(201);
  return digestOf(manifest).value;
}

/** The digest `repo:tag` resolves to through an agent. */
async function resolveThrough(agent: string, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${agent}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: MediaType.ociManifest },
  });
  const body = Buffer.from(await res.arrayBuffer());
  return res.status === 200 ? digestOf(body).value : undefined;
}

/** Tag writes a build-index node accepted from clients (not replicated ones). */
async function tagPuts(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^kraken_build_index_tag_puts_total (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('build-index cluster', () => {
  it('keeps a just-pushed tag resolvable through every agent when the node that took it is killed', async () => {
    const nodes = cluster.endpoints['build-index'];
    expect(nodes).toHaveLength(2);
    const digest = await pushImage('ha/app', 'v1');
    const puts = await Promise.all(nodes.map(tagPuts));
    const accepted = puts.findIndex((n) => n === 1);
    expect(puts.filter((n) => n === 1)).toHaveLength(1);

    await cluster.component(`build-index-${accepted}`)!.stop('SIGKILL');
    for (const agent of cluster.endpoints.agent) {
      expect(await resolveThrough(agent, 'ha/app', 'v1')).toBe(digest);
    }
    await cluster.restart(`build-index-${accepted}`);
  });

  it('brings a node that was down up to date, so the tag survives losing the other one', async () => {
    // The node that stays up takes the push alone, then goes down once the other is back.
    await cluster.component('build-index-1')!.stop('SIGKILL');
    const digest = await pushImage('ha/late', 'v1');
    await cluster.restart('build-index-1');
    const restarted = cluster.endpoints['build-index'][1]!;
    // It pulls what it missed from its peer as it starts.
    await expect
      .poll(async () => (await fetch(`${restarted}/v1/repositories/ha%2Flate/tags/v1`)).status, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(200);

    await cluster.component('build-index-0')!.stop('SIGKILL');
    for (const agent of cluster.endpoints.agent) {
      expect(await resolveThrough(agent, 'ha/late', 'v1')).toBe(digest);
    }
    await cluster.restart('build-index-0');
  });
});
