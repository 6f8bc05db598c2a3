import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLiveRing, createRingConfigSchema } from '@kraken/hashring';
import { createMetrics, silentLogger, type Metrics } from '@kraken/service-kit';
import { createFilesystemBackend } from '@kraken/storage-backends';
import type { BuildIndexClient } from '../client/client-types.js';
import { createBuildIndexClient } from '../client/build-index-client.js';
import type { Timers } from '@kraken/foundation';
import { createBuildIndexCluster, type BuildIndexCluster } from './cluster.js';
import { createBuildIndexClusterClient } from '../client/cluster-client.js';
import { createBuildIndexRoutes } from '../api/routes.js';
import { isNewerTag } from './replica-protocol.js';
import { createFakeOrigin, imageManifest, storeImage, type FakeOrigin } from '../testing/fixtures.js';

interface Node {
  readonly url: string;
  readonly root: string;
  app: FastifyInstance;
  cluster: BuildIndexCluster;
  client: BuildIndexClient;
  metrics: Metrics;
}

let dir: string;
let origin: FakeOrigin;
let clock: Date;
const closers: Array<() => Promise<unknown> | unknown> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-cluster-'));
  origin = createFakeOrigin();
  clock = new Date('2030-01-02T03:04:05.000Z');
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Starts (or restarts) a node on its port, over its own directory, knowing its peers. */
async function startNode(
  port: number,
  peers: readonly number[],
  extra: { timers?: Timers; intervalMs?: number } = {},
): Promise<Node> {
  const url = `http://127.0.0.1:${port}`;
  const root = join(dir, String(port));
  const backend = createFilesystemBackend({ root });
  const metrics = createMetrics('build-index', { defaultMetrics: false });
  const cluster = createBuildIndexCluster({
    backend,
    peers: peers.map((p) => `http://127.0.0.1:${p}`),
    replicationTimeoutMs: 2_000,
    now: () => clock,
    antiEntropyIntervalMs: extra.intervalMs ?? 0,
    logger: silentLogger(),
    metrics,
    ...(extra.timers ? { timers: extra.timers } : {}),
  });
  const app = Fastify();
  await app.register(
    createBuildIndexRoutes({
      backend,
      tags: cluster.tags,
      origin,
      logger: silentLogger(),
      metrics,
      now: () => clock,
      onTagPut: ({ repo, tag, value, record }) => cluster.replicateTag(repo, tag, value, record),
      onTagDelete: ({ repo, tag, tombstone }) => cluster.replicateDelete(repo, tag, tombstone),
    }),
  );
  await app.register(cluster.routes);
  app.get('/readiness', async () => ({ ready: true }));
  await app.listen({ host: '127.0.0.1', port });
  const client = createBuildIndexClient({ url });
  const node: Node = { url, root, app, cluster, client, metrics };
  closers.push(async () => {
    await client.close();
    await cluster.close();
    await app.close();
  });
  return node;
}

async function stopNode(node: Node): Promise<void> {
  await node.client.close();
  await node.cluster.close();
  await node.app.close();
}

function pushedImage(layers: string[] = ['layer-a']) {
  const image = imageManifest({ config: `config-${layers.join()}`, layers });
  storeImage(origin, image);
  return image;
}

describe('build-index cluster', () => {
  it('replicates a tag write to every peer before answering, with its time and record', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodes = await Promise.all(
      ports.map((p) =>
        startNode(
          p,
          ports.filter((q) => q !== p),
        ),
      ),
    );
    const [a, b, c] = nodes as [Node, Node, Node];
    const image = pushedImage();
    await a.client.putTag('team/app', 'v1', image.digest);
    clock = new Date('2031-01-01T00:00:00.000Z');
    for (const node of [b, c]) {
      expect((await node.client.getTag('team/app', 'v1'))?.value).toBe(image.digest.value);
      expect((await node.client.getManifest('team/app', image.digest))?.digest).toBe(image.digest.value);
    }
    const stored = await fetch(`${b.url}/v1/repositories/team%2Fapp/tags/v1`);
    const written = (await stored.json()) as { version: string };
    expect(written).toEqual({
      digest: image.digest.value,
      updatedAt: '2030-01-02T03:04:05.000Z',
      version: expect.stringMatching(/^[0-9a-f]{12}\.[0-9a-f]{6}\./),
    });
    // Every node holds the same version: the one the accepting node gave the write.
    const onC = await fetch(`${c.url}/v1/repositories/team%2Fapp/tags/v1`);
    expect(((await onC.json()) as { version: string }).version).toBe(written.version);
    expect(
      await a.metrics.registry.getSingleMetricAsString('kraken_build_index_replication_pushes_total'),
    ).toMatch(/result="ok"} 2$/m);

    // A delete goes everywhere too.
    expect(await b.client.deleteTag('team/app', 'v1')).toBe(true);
    expect(await a.client.getTag('team/app', 'v1')).toBeUndefined();
    expect(await c.client.getTag('team/app', 'v1')).toBeUndefined();

    // So do the tags a manifest delete drops.
    await a.client.putTag('team/app', 'v2', image.digest);
    expect(await c.client.deleteManifest('team/app', image.digest)).toBe(true);
    for (const node of nodes) expect(await node.client.getTag('team/app', 'v2')).toBeUndefined();
  });

  it('answers a write while a peer is down, and the peer catches up by anti-entropy', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(pa, [pb]);
    let b = await startNode(pb, [pa]);
    const old = pushedImage(['old']);
    await a.client.putTag('app', 'stable', old.digest);
    await stopNode(b);

    clock = new Date('2030-02-01T00:00:00.000Z');
    const fresh = pushedImage(['fresh']);
    const outcome = a.cluster.replicateTag('app', 'other', {
      digest: fresh.digest.value,
      updatedAt: clock.toISOString(),
    });
    expect(await outcome).toEqual({ acked: [], failed: [`http://127.0.0.1:${pb}`] });
    await a.client.putTag('app', 'stable', fresh.digest);
    await a.client.putTag('new/repo', 'v1', fresh.digest);

    b = await startNode(pb, [pa]);
    expect((await b.client.getTag('app', 'stable'))?.value).toBe(old.digest.value);
    const report = await b.cluster.sweep();
    expect(report).toEqual({ repaired: 2, failedPeers: [] });
    expect((await b.client.getTag('app', 'stable'))?.value).toBe(fresh.digest.value);
    expect((await b.client.getTag('new/repo', 'v1'))?.value).toBe(fresh.digest.value);
    expect((await b.client.getManifest('new/repo', fresh.digest))?.digest).toBe(fresh.digest.value);
    // Nothing left to repair in either direction.
    expect(await b.cluster.sweep()).toEqual({ repaired: 0, failedPeers: [] });
    expect(await a.cluster.sweep()).toEqual({ repaired: 0, failedPeers: [] });
  });

  it('keeps a tag deleted on a node that missed the delete, and a later write wins over it', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(pa, [pb]);
    let b = await startNode(pb, [pa]);
    const image = pushedImage(['deleted']);
    await a.client.putTag('app', 'gone', image.digest);
    await stopNode(b);
    clock = new Date('2030-03-01T00:00:00.000Z');
    expect(await a.client.deleteTag('app', 'gone')).toBe(true);

    // B still holds the old value: A's sweep must not bring it back, B's must drop it.
    b = await startNode(pb, [pa]);
    expect((await b.client.getTag('app', 'gone'))?.value).toBe(image.digest.value);
    expect(await a.cluster.sweep()).toEqual({ repaired: 0, failedPeers: [] });
    expect(await a.client.getTag('app', 'gone')).toBeUndefined();
    expect(await b.cluster.sweep()).toEqual({ repaired: 1, failedPeers: [] });
    expect(await b.client.getTag('app', 'gone')).toBeUndefined();
    expect(await b.client.listTags('app')).toEqual([]);

    clock = new Date('2030-03-02T00:00:00.000Z');
    await b.client.putTag('app', 'gone', image.digest);
    expect((await a.client.getTag('app', 'gone'))?.value).toBe(image.digest.value);
    const bad = await fetch(`${a.url}/v1/replica/repositories/app/tags/gone?deletedAt=soon`, {
      method: 'DELETE',
    });
    expect(bad.status).toBe(400);
  });

  it('keeps the newer value when a replicated write is older', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(pa, [pb]);
    await startNode(pb, [pa]);
    const newer = pushedImage(['newer']);
    const older = pushedImage(['older']);
    await a.client.putTag('app', 'v1', newer.digest);
    const replica = await fetch(`http://127.0.0.1:${pb}/v1/replica/repositories/app/tags/v1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ digest: older.digest.value, updatedAt: '2029-12-31T00:00:00.000Z' }),
    });
    expect(await replica.json()).toEqual({
      applied: false,
      current: { digest: newer.digest.value, updatedAt: clock.toISOString(), version: expect.any(String) },
    });
    const bad = await fetch(`http://127.0.0.1:${pb}/v1/replica/repositories/app/tags/v1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ digest: 'sha256:nope', updatedAt: 'yesterday' }),
    });
    expect(bad.status).toBe(400);
    const badName = await fetch(`http://127.0.0.1:${pb}/v1/replica/repositories/..%2Fetc/tags`);
    expect(badName.status).toBe(400);
  });

  it('orders tag values by time, then digest', () => {
    const at = '2030-01-01T00:00:00.000Z';
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    expect(isNewerTag({ digest: d('a'), updatedAt: at }, undefined)).toBe(true);
    expect(
      isNewerTag({ digest: d('a'), updatedAt: '2030-01-01T00:00:01Z' }, { digest: d('b'), updatedAt: at }),
    ).toBe(true);
    expect(isNewerTag({ digest: d('b'), updatedAt: at }, { digest: d('a'), updatedAt: at })).toBe(true);
    expect(isNewerTag({ digest: d('a'), updatedAt: at }, { digest: d('b'), updatedAt: at })).toBe(false);
    expect(isNewerTag({ digest: d('a'), updatedAt: at }, { digest: d('a'), updatedAt: at })).toBe(false);
  });

  it('sweeps at start and then on its interval, on the injected timers', async () => {
    const due: Array<{ callback: () => void; ms: number }> = [];
    const timers: Timers = {
      setTimeout: (callback, ms) => due.push({ callback, ms }),
      clearTimeout: () => {},
    };
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(pa, [pb]);
    const b = await startNode(pb, [pa], { timers, intervalMs: 60_000 });
    await stopNode(b);
    await a.client.putTag('app', 'v1', pushedImage().digest);
    const restarted = await startNode(pb, [pa], { timers, intervalMs: 60_000 });
    restarted.cluster.start();
    await expect.poll(() => restarted.client.getTag('app', 'v1')).toBeDefined();
    await expect.poll(() => due.length).toBe(1);
    expect(due[0]?.ms).toBe(60_000);
    await a.client.putTag('app', 'v2', pushedImage(['two']).digest);
    // Replication reached it already; the timer's sweep finds nothing to do and re-arms.
    due.shift()?.callback();
    await expect.poll(() => due.length).toBe(1);
  });
});

describe('build-index cluster client', () => {
  it('fails reads and writes over to a live node, and finds a tag only some nodes hold', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(pa, [pb]);
    const b = await startNode(pb, [pa]);
    const ring = createLiveRing(
      createRingConfigSchema().parse({
        nodes: [a.url, b.url],
        health: { unhealthyThreshold: 1, active: { enabled: false } },
      }),
    );
    closers.push(() => ring.close());
    const client = createBuildIndexClusterClient({ ring });
    closers.push(() => client.close());

    const image = pushedImage();
    await client.putTag('team/app', 'v1', image.digest);
    const owner = ring.owners('team/app')[0]?.url === `${a.url}/` ? a : b;
    const other = owner === a ? b : a;
    await stopNode(owner);
    expect((await client.getTag('team/app', 'v1'))?.value).toBe(image.digest.value);
    expect(await client.listTags('team/app')).toEqual(['v1']);
    await client.ping();

    // Written on one node only (as if replication had failed): still found.
    await other.cluster.close();
    const lonely = pushedImage(['lonely']);
    await fetch(`${other.url}/v1/replica/repositories/solo/tags/v1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ digest: lonely.digest.value, updatedAt: clock.toISOString() }),
    });
    expect((await client.getTag('solo', 'v1'))?.value).toBe(lonely.digest.value);
    expect(await client.getTag('solo', 'nope')).toBeUndefined();

    // A refusal is the same everywhere: it is not retried.
    const missing = imageManifest({ config: 'c', layers: ['never-pushed'] });
    await expect(client.putTag('team/app', 'v2', missing.digest)).rejects.toMatchObject({
      code: 'KRAKEN_TAG_REJECTED',
    });
  });
});
