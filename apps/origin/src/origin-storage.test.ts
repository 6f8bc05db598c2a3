import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { blobKey } from '@kraken/storage-backends';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

describe('origin storage wiring', () => {
  let dir: string;
  let app: App | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-origin-storage-'));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (extra: object = {}) => {
    const config = parseConfig(configSchema, {
      listen: { port: 0 },
      storage: { type: 'filesystem', root: join(dir, 'store') },
      uploads: { dir: join(dir, 'uploads') },
      cache: { dir: join(dir, 'cache') },
      writeBack: { dbPath: join(dir, 'write-back.db') },
      p2p: { listen: { host: '127.0.0.1', port: 0 }, dir: join(dir, 'p2p') },
      origins: { nodes: [] },
      trackers: { nodes: ['127.0.0.1:9'] },
      ...extra,
    });
    app = createApp(config, { logger: silentLogger() });
    await app.start();
    return app.url!;
  };
  const put = (url: string, body: string, namespace: string) =>
    fetch(`${url}/v1/blobs/${digestOf(body).value}?namespace=${encodeURIComponent(namespace)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
  const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();

  it('writes a pushed blob back to the backend and reports it', async () => {
    const url = await start();
    expect((await put(url, 'written back', 'library/alpine')).status).toBe(201);
    const stored = join(dir, 'store', blobKey(digestOf('written back')));
    await expect.poll(() => readFile(stored, 'utf8').catch(() => undefined)).toBe('written back');
    await expect.poll(() => metrics(url)).toContain('kraken_origin_write_backs_total{result="success"} 1');
    const text = await metrics(url);
    expect(text).toContain('kraken_origin_write_back_queue_depth 0');
    expect(text).toContain('kraken_origin_cache_bytes 12');
  });

  it('takes in a committed chunked upload without copying it, and writes it back', async () => {
    const url = await start();
    const created = await fetch(`${url}/v1/uploads`, { method: 'POST' });
    const { uploadId } = (await created.json()) as { uploadId: string };
    const octets = { 'content-type': 'application/octet-stream' };
    const patch = await fetch(`${url}/v1/uploads/${uploadId}`, {
      method: 'PATCH',
      headers: octets,
      body: 'chunked ',
    });
    expect(patch.status).toBe(202);
    const digest = digestOf('chunked upload');
    const commit = await fetch(`${url}/v1/uploads/${uploadId}?digest=${digest.value}&namespace=team/app`, {
      method: 'PUT',
      headers: octets,
      body: 'upload',
    });
    expect(commit.status).toBe(201);
    expect(await readdir(join(dir, 'uploads'))).toEqual([]);
    const stored = join(dir, 'store', blobKey(digest));
    await expect.poll(() => readFile(stored, 'utf8').catch(() => undefined)).toBe('chunked upload');
  });

  it('routes by namespace and refuses a namespace no rule matches at upload time', async () => {
    const url = await start({
      storageRouting: [
        { namespace: 'library/.*', backend: { type: 'filesystem', root: join(dir, 'library') } },
      ],
    });
    expect((await put(url, 'routed', 'library/busybox')).status).toBe(201);
    const routed = join(dir, 'library', blobKey(digestOf('routed')));
    await expect.poll(() => readFile(routed, 'utf8').catch(() => undefined)).toBe('routed');

    const refused = await put(url, 'nowhere', 'team/app');
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: 'KRAKEN_NO_BACKEND_FOR_NAMESPACE' } });
    expect((await fetch(`${url}/v1/blobs/${digestOf('nowhere').value}`)).status).toBe(404);
  });
});
