import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { digestOf, MediaType, type Digest } from '@kraken/oci-content';
import { createBuildIndexClient, TagRejectedError, type BuildIndexClient } from '@kraken/build-index';
import { createOriginClient, createOriginRoutes, type OriginClient } from '@kraken/origin';
import { startInProcessOrigin } from '@kraken/origin/testing';
import { createMetrics, parseConfig, silentLogger } from '@kraken/service-kit';
import { createContentStore, createFilesystemBackend } from '@kraken/storage-backends';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

let dir: string;
let origin: FastifyInstance;
let originUrl: string;
let originClient: OriginClient;
let app: App;
let client: BuildIndexClient;

/** A real origin in this process, on an ephemeral port. */
async function startOrigin(port = 0): Promise<void> {
  origin = Fastify();
  await origin.register(
    createOriginRoutes({
      store: createContentStore({ backend: createFilesystemBackend({ root: join(dir, 'origin') }) }),
      uploadsDir: join(dir, 'origin-uploads'),
      logger: silentLogger(),
      metrics: createMetrics('origin', { defaultMetrics: false }),
    }),
  );
  origin.get('/readiness', async () => ({ ready: true }));
  originUrl = await origin.listen({ host: '127.0.0.1', port });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-app-'));
  await startOrigin();
  originClient = createOriginClient({ url: originUrl });
  const config = parseConfig(configSchema, {
    listen: { port: 0 },
    storage: { type: 'filesystem', root: join(dir, 'build-index') },
    origins: { nodes: [originUrl] },
    replication: { dbPath: join(dir, 'build-index.db') },
    logging: { level: 'silent' },
  });
  app = createApp(config, { logger: silentLogger() });
  await app.start();
  client = createBuildIndexClient({ url: app.url });
});

afterEach(async () => {
  await client.close();
  await app.close();
  await originClient.close();
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

async function upload(content: string | Buffer): Promise<Digest> {
  const digest = digestOf(content);
  await originClient.putBlob(digest, Readable.from([Buffer.from(content)]));
  return digest;
}

/** Pushes an image to the origin, leaving out the blobs listed in `skip`. */
async function pushImage(layers: string[], skip: string[] = []): Promise<Digest> {
  const config = '{"architecture":"amd64"}';
  for (const blob of [config, ...layers]) if (!skip.includes(blob)) await upload(blob);
  const descriptor = (c: string, mediaType: string) => ({
    mediaType,
    digest: digestOf(c).value,
    size: Buffer.byteLength(c),
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: descriptor(config, MediaType.ociConfig),
    layers: layers.map((l) => descriptor(l, 'application/vnd.oci.image.layer.v1.tar')),
  });
  return upload(manifest);
}

describe('build-index app', () => {
  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    const readiness = await fetch(`${app.url}/readiness`);
    expect(readiness.status).toBe(200);
    const report = (await readiness.json()) as { checks: Record<string, { ok: boolean }> };
    expect(report.checks).toEqual({ origin: { ok: true }, storage: { ok: true } });
    await client.ping();

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('kraken_build_index_tag_puts_total');
    expect(metrics).toContain('kraken_build_index_tag_rejections_total');
  });

  it('is not ready while the origin is down, and names it', async () => {
    const { port } = new URL(originUrl);
    await origin.close();
    const readiness = await fetch(`${app.url}/readiness`);
    expect(readiness.status).toBe(503);
    const report = (await readiness.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(report.checks.origin?.ok).toBe(false);
    expect(report.checks.origin?.error).toContain(originUrl.replace(/\/$/, ''));
    expect(report.checks.storage?.ok).toBe(true);
    await expect(client.ping()).rejects.toMatchObject({ code: 'KRAKEN_NOT_READY' });
    await startOrigin(Number(port));
    expect((await fetch(`${app.url}/readiness`)).status).toBe(200);
  });

  it('round-trips a tag checked against the real origin', async () => {
    const digest = await pushImage(['layer-1', 'layer-2']);
    await client.putTag('team/app', 'v1', digest);
    expect((await client.getTag('team/app', 'v1'))?.value).toBe(digest.value);
    expect(await client.listTags('team/app')).toEqual(['v1']);
    expect(await client.listRepositories()).toEqual(['team/app']);
    expect((await client.getManifest('team/app', digest))?.mediaType).toBe(MediaType.ociManifest);

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^kraken_build_index_tag_puts_total 1$/m);
    expect(metrics).toMatch(/^kraken_build_index_tag_gets_total\{result="hit"\} 1$/m);
  });

  it('refuses a tag whose layer never reached the origin', async () => {
    const digest = await pushImage(['layer-1', 'lost-layer'], ['lost-layer']);
    const err = await client.putTag('team/app', 'v1', digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagRejectedError);
    expect((err as TagRejectedError).missing).toEqual([digestOf('lost-layer').value]);
    expect(await client.getTag('team/app', 'v1')).toBeUndefined();
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^kraken_build_index_tag_rejections_total\{kind="tag"\} 1$/m);
  });

  it('keeps tags across a restart on the same storage', async () => {
    const digest = await pushImage(['layer-1']);
    await client.putTag('app', 'stable', digest);
    await client.close();
    await app.close();
    await app.close();
    const config = parseConfig(configSchema, {
      listen: { port: 0 },
      storage: { type: 'filesystem', root: join(dir, 'build-index') },
      origins: { nodes: [originUrl] },
      replication: { dbPath: join(dir, 'build-index.db') },
    });
    app = createApp(config, { logger: silentLogger() });
    await app.start();
    client = createBuildIndexClient({ url: app.url });
    expect((await client.getTag('app', 'stable'))?.value).toBe(digest.value);
  });

  it('replicates tag writes to its peers, and a restarted peer catches up at start', async () => {
    const port = await freePort();
    const peerConfig = (root: string) =>
      parseConfig(configSchema, {
        listen: { port },
        storage: { type: 'filesystem', root: join(dir, root) },
        origins: { nodes: [originUrl] },
        replication: { dbPath: join(dir, `${root}.db`) },
        cluster: { peers: [app.url], antiEntropyIntervalMs: 0 },
        logging: { level: 'silent' },
      });
    // The first node learns of its peer through a restart with a new config.
    await client.close();
    await app.close();
    app = createApp(
      parseConfig(configSchema, {
        listen: { port: 0 },
        storage: { type: 'filesystem', root: join(dir, 'build-index') },
        origins: { nodes: [originUrl] },
        replication: { dbPath: join(dir, 'build-index.db') },
        cluster: { peers: [`http://127.0.0.1:${port}`], antiEntropyIntervalMs: 0 },
      }),
      { logger: silentLogger() },
    );
    await app.start();
    client = createBuildIndexClient({ url: app.url });
    let peer = createApp(peerConfig('peer'), { logger: silentLogger() });
    await peer.start();
    const peerClient = createBuildIndexClient({ url: peer.url });
    try {
      const first = await pushImage(['layer-1']);
      await client.putTag('team/app', 'v1', first);
      expect((await peerClient.getTag('team/app', 'v1'))?.value).toBe(first.value);

      await peer.close();
      const second = await pushImage(['layer-2']);
      await client.putTag('team/app', 'v2', second);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/^kraken_build_index_replication_pushes_total\{result="failed"\} 1$/m);

      peer = createApp(peerConfig('peer'), { logger: silentLogger() });
      await peer.start();
      await expect.poll(async () => (await peerClient.getTag('team/app', 'v2'))?.value).toBe(second.value);
    } finally {
      await peerClient.close();
      await peer.close();
    }
  });
});

describe('build-index app replication', () => {
  it('keeps its replication queue in its storage root unless told otherwise', async () => {
    const other = createApp(
      parseConfig(configSchema, {
        listen: { port: 0 },
        storage: { type: 'filesystem', root: join(dir, 'own-root') },
        origins: { nodes: [originUrl] },
        logging: { level: 'silent' },
      }),
      { logger: silentLogger() },
    );
    await other.start();
    try {
      expect((await stat(join(dir, 'own-root', 'replication.db'))).isFile()).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('replicates tags to another cluster by a config rule, and reports it', async () => {
    const remoteOrigin = await startInProcessOrigin();
    const remote = createApp(
      parseConfig(configSchema, {
        listen: { port: 0 },
        storage: { type: 'filesystem', root: join(dir, 'remote') },
        origins: { nodes: [remoteOrigin.url], replicas: 1 },
        replication: { clusterId: 'b', dbPath: join(dir, 'remote.db') },
        logging: { level: 'silent' },
      }),
      { logger: silentLogger() },
    );
    await remote.start();
    const remoteClient = createBuildIndexClient({ url: remote.url });
    try {
      // The first app gets its rule through a restart with a new config.
      await client.close();
      await app.close();
      app = createApp(
        parseConfig(configSchema, {
          listen: { port: 0 },
          storage: { type: 'filesystem', root: join(dir, 'build-index') },
          origins: { nodes: [originUrl] },
          replication: {
            clusterId: 'a',
            dbPath: join(dir, 'build-index.db'),
            rules: [{ name: 'to-b', repositories: 'team/.*', destination: { discover: remote.url } }],
          },
          logging: { level: 'silent' },
        }),
        { logger: silentLogger() },
      );
      await app.start();
      client = createBuildIndexClient({ url: app.url });
      const digest = await pushImage(['replicated-layer']);
      await client.putTag('team/app', 'v1', digest);
      await expect.poll(async () => (await remoteClient.getTag('team/app', 'v1'))?.value).toBe(digest.value);

      const described = await (await fetch(`${remote.url}/v1/replication/cluster`)).json();
      expect(described).toEqual({
        clusterId: 'b',
        buildIndex: [remote.url],
        origins: { nodes: [remoteOrigin.url], replicas: 1 },
      });
      await expect
        .poll(async () => {
          const status = (await (await fetch(`${app.url}/v1/replication/status`)).json()) as {
            rules: { done: number }[];
          };
          return status.rules[0]?.done;
        })
        .toBe(1);
      const status = await (await fetch(`${app.url}/v1/replication/status`)).json();
      expect(status).toMatchObject({
        clusterId: 'a',
        node: app.url,
        rules: [
          {
            rule: 'to-b',
            source: 'config',
            destination: { clusterId: 'b' },
            pending: 0,
            inFlight: 0,
            failed: 0,
            lagSeconds: 0,
          },
        ],
      });
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/^kraken_build_index_replication_tasks_total\{rule="to-b",result="done"\} 1$/m);
      expect(metrics).toMatch(/^kraken_build_index_replication_lag_seconds\{rule="to-b"\} 0$/m);
    } finally {
      await remoteClient.close();
      await remote.close();
      await remoteOrigin.close();
    }
  });
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
