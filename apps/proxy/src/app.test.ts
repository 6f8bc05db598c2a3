import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, MediaType, parseDigest } from '@kraken/oci-content';
import { createOriginClient } from '@kraken/origin';
import { startInProcessServices, type InProcessServices } from '@kraken/build-index/testing';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

let services: InProcessServices;
let app: App;
let dir: string;

beforeAll(async () => {
  services = await startInProcessServices();
  dir = await mkdtemp(join(tmpdir(), 'kraken-proxy-'));
  const config = parseConfig(configSchema, {
    listen: { port: 0 },
    registry: { uploads: { dir: join(dir, 'uploads') } },
    cache: { blobDir: join(dir, 'blob-cache') },
    origins: { nodes: [services.originUrl] },
    buildIndex: { nodes: [services.buildIndexUrl] },
  });
  app = createApp(config, { logger: silentLogger() });
  await app.start();
});

afterAll(async () => {
  await app.close();
  await services.close();
  await rm(dir, { recursive: true, force: true });
});

async function pushBlob(repo: string, content: Buffer) {
  const digest = digestOf(content).value;
  const res = await fetch(`${app.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: content,
  });
  expect(res.status).toBe(201);
  return { digest, size: content.length };
}

describe('proxy', () => {
  it('serves the operational endpoints and is ready when its dependencies are', async () => {
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    const readiness = await fetch(`${app.url}/readiness`);
    expect(readiness.status).toBe(200);
    expect(await (await fetch(`${app.url}/metrics`)).text()).toContain('kraken_proxy_');
  });

  it('pushes an image and pulls it back by tag and digest', async () => {
    const layer = await pushBlob('team/app', Buffer.from('layer-bytes'));
    const config = await pushBlob('team/app', Buffer.from('{"architecture":"amd64","os":"linux"}'));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    const put = await fetch(`${app.url}/v2/team/app/manifests/v1`, {
      method: 'PUT',
      headers: { 'content-type': MediaType.ociManifest },
      body: manifest,
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digestOf(manifest).value);

    const byTag = await fetch(`${app.url}/v2/team/app/manifests/v1`);
    expect(byTag.status).toBe(200);
    expect(byTag.headers.get('content-type')).toBe(MediaType.ociManifest);
    expect(Buffer.from(await byTag.arrayBuffer()).equals(manifest)).toBe(true);

    const blob = await fetch(`${app.url}/v2/team/app/blobs/${layer.digest}`);
    expect(await blob.text()).toBe('layer-bytes');
    const tags = await (await fetch(`${app.url}/v2/team/app/tags/list`)).json();
    expect(tags).toEqual({ name: 'team/app', tags: ['v1'] });
  });

  it('serves a blob pushed through it from its own disk cache', async () => {
    const content = Buffer.from('pushed-then-pulled');
    const { digest } = await pushBlob('team/cached', content);
    // Gone from the origin: only the proxy's cache can answer now.
    const origin = createOriginClient({ url: services.originUrl });
    expect(await origin.deleteBlob(parseDigest(digest))).toBe(true);
    await origin.close();
    const res = await fetch(`${app.url}/v2/team/cached/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('pushed-then-pulled');
  });

  it('refuses a manifest whose layer was never pushed, with the spec error', async () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: digestOf('missing-config').value, size: 14 },
      layers: [],
    });
    const put = await fetch(`${app.url}/v2/team/app/manifests/broken`, {
      method: 'PUT',
      headers: { 'content-type': MediaType.ociManifest },
      body: manifest,
    });
    expect(put.status).toBe(400);
    const body = (await put.json()) as { errors: { code: string }[] };
    expect(body.errors[0]?.code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect((await fetch(`${app.url}/v2/team/app/manifests/broken`)).status).toBe(404);
  });

  it('names a bad config key', () => {
    expect(() => parseConfig(configSchema, { origin: { url: 'x' } })).toThrow(/origin: unknown key/);
    expect(() => parseConfig(configSchema, { origins: { nodes: ['no-port'] } })).toThrow(/origins\.nodes\.0/);
  });
});
