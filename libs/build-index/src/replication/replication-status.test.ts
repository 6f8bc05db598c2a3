import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createManualClock } from '@kraken/foundation/testing';
import { imageIndex, imageManifest } from '../testing/fixtures.js';
import {
  freePorts,
  replicationSettled,
  startClusterPair,
  startTestCluster,
  type PairRule,
  type TestCluster,
  type TestClusterOptions,
} from '../testing/replication-clusters.js';

let dir: string;
const clusters: TestCluster[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-replication-'));
});

afterEach(async () => {
  await replicationSettled(clusters).catch(() => {});
  for (const cluster of clusters.splice(0).reverse()) await cluster.close();
  await rm(dir, { recursive: true, force: true });
});

function twoClusters(
  rules: { a?: PairRule[]; b?: PairRule[] },
  extra: { a?: Partial<TestClusterOptions>; b?: Partial<TestClusterOptions> } = {},
): Promise<{ a: TestCluster; b: TestCluster }> {
  return startClusterPair({ dir, rules, ...extra, started: (cluster) => clusters.push(cluster) });
}

const settled = (...all: TestCluster[]) => replicationSettled(all);

function image(name: string, layers = [`layer-of-${name}`]) {
  return imageManifest({ config: `config-of-${name}`, layers });
}

describe('durable queue, retries and status', () => {
  it('keeps tasks across a restart while the destination is down, then delivers them', async () => {
    const { a, b } = await twoClusters({ a: [{ name: 'to-b', repositories: '.*', to: 'b' }] });
    await a.nodes[0]!.replication.backfill();
    await b.nodes[0]!.stop();
    const one = image('one');
    await a.push('app', 'v1', one);
    await expect.poll(() => a.nodes[0]!.replication.status().rules[0]!.failed).toBe(1);
    const failing = a.nodes[0]!.replication.status().rules[0]!;
    expect(failing).toMatchObject({ pending: expect.any(Number), done: 0 });
    expect(failing.lastError).toMatchObject({ repository: 'app', tag: 'v1', message: expect.any(String) });
    // The source node restarts over the same queue file: the task is still there.
    await a.nodes[0]!.stop();
    const restarted = await a.restart(0);
    expect(
      restarted.replication.status().rules[0]!.pending + restarted.replication.status().rules[0]!.inFlight,
    ).toBe(1);
    await expect.poll(() => restarted.replication.status().rules[0]!.lagSeconds).toBeGreaterThan(0);
    await b.restart(0);
    await expect
      .poll(async () => (await b.nodes[0]!.client.getTag('app', 'v1'))?.value, { timeout: 10_000 })
      .toBe(one.digest.value);
    await settled(a);
    const status = restarted.replication.status().rules[0]!;
    expect(status).toMatchObject({ pending: 0, inFlight: 0, failed: 0, done: 1, lagSeconds: 0 });
    expect(status.bytesCopied).toBe(
      one.bytes.byteLength + one.blobs.reduce((n, blob) => n + blob.bytes.byteLength, 0),
    );
    // The last error stays visible, with its time.
    expect(status.lastError?.at).toMatch(/^\d{4}-/);
  });

  it('refuses to show a tag whose blob did not arrive, and says why in the status', async () => {
    const { a, b } = await twoClusters({ a: [{ name: 'to-b', repositories: '.*', to: 'b' }] });
    const one = image('one', ['lost-layer']);
    const lost = one.blobs[1]!.digest.value;
    b.dropPut = (digest) => digest === lost;
    await a.push('app', 'v1', one);
    await expect
      .poll(() => a.nodes[0]!.replication.status().rules[0]!.lastError?.message ?? '')
      .toMatch(/refused.*missing/);
    expect(a.nodes[0]!.replication.status().rules[0]!.lastError?.message).toContain(lost);
    expect(await b.nodes[0]!.client.getTag('app', 'v1')).toBeUndefined();
    // Once the destination keeps the blob, the retry delivers.
    b.dropPut = () => false;
    await expect
      .poll(async () => (await b.nodes[0]!.client.getTag('app', 'v1'))?.value)
      .toBe(one.digest.value);
  });

  it('backfills tags pushed before the rule existed, once the rule is created through the API', async () => {
    const { a, b } = await twoClusters({});
    const [one, two] = [image('one'), image('two')];
    await a.push('team/app', 'v1', one);
    await a.push('team/app', 'v2', two);
    await a.push('team/other', 'v1', one);
    await a.push('private/app', 'v1', one);
    const created = await fetch(`${a.nodes[0]!.url}/v1/replication/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'team-to-b',
        repositories: 'team/.*',
        tags: 'v1',
        destination: { discover: b.nodes[0]!.url },
      }),
    });
    expect(created.status).toBe(201);
    const remote = b.nodes[0]!.client;
    await expect.poll(async () => (await remote.getTag('team/other', 'v1'))?.value).toBe(one.digest.value);
    await settled(a);
    expect((await remote.getTag('team/app', 'v1'))?.value).toBe(one.digest.value);
    expect(await remote.getTag('team/app', 'v2')).toBeUndefined();
    expect(await remote.getTag('private/app', 'v1')).toBeUndefined();
    const status = a.nodes[0]!.replication.status().rules[0]!;
    expect(status).toMatchObject({ rule: 'team-to-b', source: 'api', lagSeconds: 0, pending: 0, done: 2 });
    expect(status.backfill).toMatchObject({ running: false, lastEnqueued: 2, lastError: null });
    expect(status.destination).toMatchObject({ clusterId: 'b', buildIndex: [b.nodes[0]!.url] });
    // A second sweep finds nothing the destination lacks.
    await a.nodes[0]!.replication.backfill();
    expect(a.nodes[0]!.replication.status().rules[0]!.backfill.lastEnqueued).toBe(0);
  });

  it('exports the replication metrics', async () => {
    const { a } = await twoClusters({ a: [{ name: 'to-b', repositories: '.*', to: 'b' }] });
    await a.push('app', 'v1', image('one'));
    await settled(a);
    const text = await a.nodes[0]!.metrics.registry.metrics();
    for (const line of [
      /^kraken_build_index_replication_tasks\{rule="to-b",state="pending"\} 0$/m,
      /^kraken_build_index_replication_lag_seconds\{rule="to-b"\} 0$/m,
      /^kraken_build_index_replication_tasks_total\{rule="to-b",result="done"\} 1$/m,
      /^kraken_build_index_replication_bytes_copied_total\{rule="to-b"\} \d+$/m,
      /^kraken_build_index_replication_blobs_total\{rule="to-b",result="copied"\} 3$/m,
      /^kraken_build_index_replication_rules\{source="config"\} 1$/m,
      /^kraken_build_index_replication_backfills_total\{rule="to-b",result="ok"\} 1$/m,
    ])
      expect(text).toMatch(line);
  });
});

describe('what a tag brings along', () => {
  it('copies an index with its child manifests and their referrers, records included', async () => {
    const { a, b } = await twoClusters({ a: [{ name: 'to-b', repositories: '.*', to: 'b' }] });
    const [amd64, arm64] = [image('amd64'), image('arm64')];
    const index = imageIndex([amd64, arm64]);
    const signature = imageManifest({
      config: 'signature-config',
      layers: ['signature'],
      subject: amd64,
      artifactType: 'application/vnd.dev.sigstore',
    });
    const local = a.nodes[0]!.client;
    for (const manifest of [amd64, arm64, signature]) await a.upload(manifest);
    for (const manifest of [amd64, arm64, signature])
      await local.putManifest('app', {
        digest: manifest.digest.value,
        mediaType: manifest.mediaType,
        size: manifest.bytes.byteLength,
        ...(manifest === signature
          ? { subject: amd64.digest.value, artifactType: 'application/vnd.dev.sigstore' }
          : {}),
      });
    await a.push('app', 'multi', index);
    await settled(a);
    const remote = b.nodes[0]!.client;
    expect((await remote.getTag('app', 'multi'))?.value).toBe(index.digest.value);
    for (const manifest of [amd64, arm64, signature])
      expect((await remote.getManifest('app', manifest.digest))?.digest).toBe(manifest.digest.value);
    expect((await remote.listReferrers('app', amd64.digest)).map((r) => r.digest)).toEqual([
      signature.digest.value,
    ]);
  });
});

describe('clusters of several nodes', () => {
  it('shares rules between the nodes and spreads a received change to every node of the destination', async () => {
    const [a0, a1, b0, b1] = await freePorts(4);
    const b = await startTestCluster({ id: 'b', dir, ports: [b0!, b1!] });
    clusters.push(b);
    const a = await startTestCluster({ id: 'a', dir, ports: [a0!, a1!] });
    clusters.push(a);
    const rule = { name: 'to-b', repositories: '.*', destination: { discover: b.nodes[1]!.url } };
    const created = await fetch(`${a.nodes[0]!.url}/v1/replication/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
    expect(created.status).toBe(201);
    // Pushed to the peer before the answer.
    const listed = (await (await fetch(`${a.nodes[1]!.url}/v1/replication/rules`)).json()) as {
      rules: object[];
    };
    expect(listed.rules).toEqual([expect.objectContaining({ name: 'to-b', source: 'api', enabled: true })]);
    // A write through the second node replicates too, and lands on both nodes of b.
    const one = image('one');
    await a.upload(one);
    await a.nodes[1]!.client.putTag('app', 'v1', one.digest);
    await settled(a);
    for (const node of b.nodes) expect((await node.client.getTag('app', 'v1'))?.value).toBe(one.digest.value);
    const described = (await (await fetch(`${b.nodes[0]!.url}/v1/replication/cluster`)).json()) as object;
    expect(described).toEqual({
      clusterId: 'b',
      buildIndex: [b.nodes[0]!.url, b.nodes[1]!.url],
      origins: { nodes: [b.originUrl], replicas: 1 },
    });
  });

  it('shares rules between nodes over one storage backend', async () => {
    const ports = await freePorts(2);
    const a = await startTestCluster({
      id: 'a',
      dir,
      ports,
      sharedBackend: true,
      replication: { rulesRefreshSeconds: 0.1 },
    });
    clusters.push(a);
    // Written through node 0 straight into the backend, as a node without peers would.
    const body = { name: 'later', repositories: 'x/.*', destination: { discover: 'http://127.0.0.1:1' } };
    await a.nodes[0]!.app.inject({ method: 'POST', url: '/v1/replication/rules', payload: body });
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${a.nodes[1]!.url}/v1/replication/rules`)).json()) as { rules: unknown[] })
            .rules,
      )
      .toEqual([expect.objectContaining({ name: 'later' })]);
  });
});

describe('a destination that answers badly', () => {
  it('retries with capped exponential backoff on the queue clock and keeps the last error', async () => {
    const [pa] = (await freePorts(1)) as [number];
    const stub = Fastify();
    const answers: Array<() => [number, string]> = [
      () => [500, 'garbage'],
      () => [500, '{"not":"an error body"}'],
      () => [200, '{"this is": "not a change result"}'],
    ];
    let changes = 0;
    let origins = '';
    let stubUrl = '';
    stub.get('/v1/replication/cluster', async () => ({
      clusterId: 'remote',
      buildIndex: [stubUrl],
      origins: { nodes: [origins], replicas: 1 },
    }));
    stub.get('/v1/repositories/:repo/manifests/:digest', async (_request, reply) => reply.code(404).send());
    let held: { tag: string; digest: string; version: string } | undefined;
    stub.put('/v1/replication/changes', async (request, reply) => {
      const [status, body] = (answers[changes++] ?? (() => [200, '{"applied":true}']))();
      if (status === 200 && body.includes('applied')) held = request.body as typeof held;
      return reply.code(status).header('content-type', 'application/json').send(body);
    });
    // What it holds, for the backfill that follows its recovery.
    stub.get('/v1/replication/tags/:repository', async (_request, reply) =>
      held === undefined
        ? reply.code(404).send()
        : { tags: [{ tag: held.tag, digest: held.digest, version: held.version }], deleted: [] },
    );
    stub.get('/health', async () => ({}));
    stubUrl = (await stub.listen({ host: '127.0.0.1', port: 0 })).replace(/\/$/, '');
    try {
      const clock = createManualClock(Date.now());
      const a = await startTestCluster({
        id: 'a',
        dir,
        ports: [pa],
        clock,
        random: () => 0.5,
        replication: {
          retry: { initialMs: 1_000, maxMs: 3_000, multiplier: 2, jitter: 0.2 },
          rules: [{ name: 'to-stub', repositories: '.*', destination: { discover: stubUrl } }],
        },
      });
      clusters.push(a);
      // The stub's origin ring is a's own: every blob is there already.
      origins = a.originUrl;
      await a.push('app', 'v1', image('one'));
      const node = a.nodes[0]!;
      const rule = () => node.replication.status().rules[0]!;
      await expect.poll(() => changes).toBe(1);
      await expect.poll(() => rule().failed).toBe(1);
      expect(rule().lastError?.message).toMatch(/HTTP 500: garbage/);
      // Backoff: 1 000 ms less 10 % jitter, then 2 000, then capped at 3 000, each less 10 %.
      for (const [wait, attempt] of [
        [899, 1],
        [1, 2],
        [1_799, 2],
        [1, 3],
        [2_699, 3],
        [1, 4],
      ] as const) {
        await clock.advance(wait);
        await expect.poll(() => changes).toBe(attempt);
        await expect.poll(() => rule().inFlight).toBe(0);
      }
      // The third answer was a 200 off-contract, the fourth a proper one.
      await expect.poll(() => rule().pending + rule().inFlight).toBe(0);
      expect(rule()).toMatchObject({ failed: 0, done: 1 });
      expect(rule().lastError?.message).toMatch(/not a change result|invalid|malformed/i);
    } finally {
      await stub.close();
    }
  });
});

describe('bandwidth', () => {
  it("holds a rule's copies to its bytes per second, on the queue clock", async () => {
    const clock = createManualClock(Date.now());
    const { a, b } = await twoClusters(
      { a: [{ name: 'slow', repositories: '.*', bandwidthBytesPerSecond: 1_000, to: 'b' }] },
      { a: { clock } },
    );
    const big = image('big', ['x'.repeat(4_000)]);
    await a.push('app', 'v1', big);
    // About 4.5 kB against a burst of 1 kB: the copy waits on the clock for seconds.
    await expect.poll(() => a.nodes[0]!.replication.status().rules[0]!.inFlight).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await b.nodes[0]!.client.getTag('app', 'v1')).toBeUndefined();
    let advanced = 0;
    while (advanced < 10_000 && (await b.nodes[0]!.client.getTag('app', 'v1')) === undefined) {
      await clock.advance(500);
      advanced += 500;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await b.nodes[0]!.client.getTag('app', 'v1'))?.value).toBe(big.digest.value);
    expect(advanced).toBeGreaterThanOrEqual(3_000);
  });
});
