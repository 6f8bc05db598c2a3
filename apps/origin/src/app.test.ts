import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createOriginClient } from '@kraken/origin';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

describe('origin app', () => {
  let dir: string;
  let app: App | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-origin-app-'));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const configFor = (storageRoot: string) =>
    parseConfig(configSchema, {
      listen: { port: 0 },
      storage: { type: 'filesystem', root: storageRoot },
      uploads: { dir: join(dir, 'uploads') },
      cache: { dir: join(dir, 'cache') },
      writeBack: { dbPath: join(dir, 'write-back.db') },
      p2p: { listen: { host: '127.0.0.1', port: 0 }, dir: join(dir, 'p2p') },
      // A ring of its own: no peers to copy blobs to.
      origins: { nodes: [] },
      // Nothing listens there; seeding announces fail quietly and are retried.
      trackers: { nodes: ['127.0.0.1:9'] },
    });

  it('serves the operational endpoints and a blob round trip', async () => {
    app = createApp(configFor(join(dir, 'store')), { logger: silentLogger() });
    await app.start();
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    const readiness = await fetch(`${app.url}/readiness`);
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toEqual({
      ready: true,
      checks: { storage: { ok: true }, cache: { ok: true } },
    });

    const client = createOriginClient({ url: app.url });
    try {
      const digest = digestOf('app round trip');
      await client.putBlob(digest, Readable.from([Buffer.from('app round trip')]), { size: 14 });
      expect(await client.statBlob(digest)).toEqual({ size: 14 });
      const chunks: Buffer[] = [];
      for await (const chunk of (await client.getBlob(digest))!)
        chunks.push(Buffer.from(chunk as Uint8Array));
      expect(Buffer.concat(chunks).toString()).toBe('app round trip');
      await client.ping();

      // Asked to seed (the tracker does this), the origin joins the swarm and says where it listens.
      const seeding = await client.seedBlob(digest);
      expect(seeding).toMatchObject({ peerId: expect.stringMatching(/^[0-9a-f]{40}$/), host: '127.0.0.1' });
      expect(seeding?.port).toBeGreaterThan(0);
      expect(await client.seedBlob(digestOf('never stored'))).toBeUndefined();
    } finally {
      await client.close();
    }

    const metricsText = async () => (await fetch(`${app!.url}/metrics`)).text();
    expect(await metricsText()).toContain('kraken_origin_blobs_stored_total 1');
    expect(await metricsText()).toContain('kraken_origin_blob_bytes_stored_total 14');
    await expect.poll(metricsText).toContain('kraken_origin_blob_bytes_served_total 14');
    expect(await metricsText()).toContain('kraken_origin_http_request_duration_seconds');
    expect(await metricsText()).toContain('kraken_origin_seeded_blobs 1');
  });

  it('reports the storage backend in readiness when it is unusable', async () => {
    const notADirectory = join(dir, 'file');
    await writeFile(notADirectory, 'x');
    app = createApp(configFor(notADirectory), { logger: silentLogger() });
    await app.start();
    const readiness = await fetch(`${app.url}/readiness`);
    expect(readiness.status).toBe(503);
    const report = (await readiness.json()) as { checks: { storage: { ok: boolean; error: string } } };
    expect(report.checks.storage.ok).toBe(false);
    expect(report.checks.storage.error).toMatch(/storage backend fs:.*file is unavailable/);
  });

  it('closes idempotently, even before start', async () => {
    const idle = createApp(configFor(join(dir, 'store')), { logger: silentLogger() });
    await idle.close();
    await idle.close();
    app = createApp(configFor(join(dir, 'store')), { logger: silentLogger() });
    await app.start();
    const url = app.url;
    await Promise.all([app.close(), app.close()]);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});

describe('origin config', () => {
  it('has working defaults', () => {
    const config = parseConfig(configSchema, {});
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 15002 });
    expect(config.storage).toEqual({ type: 'filesystem', root: './.devcluster/origin-0/store' });
    expect(config.uploads.dir).toBe('./.devcluster/origin-0/uploads');
    expect(config.limits.maxBlobBytes).toBeGreaterThan(20 * 1024 ** 3);
    expect(config.origins).toMatchObject({ nodes: ['127.0.0.1:15002'], replicas: 3 });
    expect(config.origins.health.active.path).toBe('/readiness');
    expect(config.replication).toMatchObject({ writeQuorum: 2 });
  });

  it('names a bad key in its error', () => {
    expect(() => parseConfig(configSchema, { storage: { type: 'filesystem', rooot: '/x' } })).toThrow(
      /storage\.rooot: unknown key/,
    );
    expect(() => parseConfig(configSchema, { limits: { maxBlobBytes: -1 } })).toThrow(/limits\.maxBlobBytes/);
    expect(() => parseConfig(configSchema, { storage: { type: 'tape' } })).toThrow(/storage/);
    expect(() => parseConfig(configSchema, { listne: {} })).toThrow(/listne: unknown key/);
  });
});
