import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, MediaType } from '@kraken/oci-content';
import { createBuildIndexClient } from '@kraken/build-index';
import { createOriginClient } from '@kraken/origin';
import { startInProcessServices, type InProcessServices } from '@kraken/build-index/testing';
import { MIN_PIECE_LENGTH } from '@kraken/p2p-core';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

let services: InProcessServices;
let app: App;
let dir: string;
// One piece: fetched straight from an origin, so no tracker is needed.
const layer = Buffer.alloc(MIN_PIECE_LENGTH, 7);
const config = Buffer.from('{"os":"linux"}');
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(config).value, size: config.length },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: digestOf(layer).value,
        size: layer.length,
      },
    ],
  }),
);

beforeAll(async () => {
  services = await startInProcessServices();
  const origin = createOriginClient({ url: services.originUrl });
  const buildIndex = createBuildIndexClient({ url: services.buildIndexUrl });
  for (const content of [layer, config, manifest]) {
    await origin.putBlob(digestOf(content), Readable.from([content]), { size: content.length });
  }
  await buildIndex.putManifest('team/app', {
    digest: digestOf(manifest).value,
    mediaType: MediaType.ociManifest,
    size: manifest.length,
  });
  await buildIndex.putTag('team/app', 'v1', digestOf(manifest));
  await Promise.all([origin.close(), buildIndex.close()]);

  dir = await mkdtemp(join(tmpdir(), 'kraken-agent-'));
  app = createApp(
    parseConfig(configSchema, {
      listen: { port: 0 },
      cache: { dir: join(dir, 'cache') },
      origins: { nodes: [services.originUrl] },
      buildIndex: { nodes: [services.buildIndexUrl] },
      // Nothing listens there: blobs of one piece or less never need the tracker.
      trackers: { nodes: ['127.0.0.1:9'] },
      p2p: { listen: { host: '127.0.0.1', port: 0 }, dir: join(dir, 'p2p') },
    }),
    { logger: silentLogger() },
  );
  await app.start();
});

afterAll(async () => {
  await app.close();
  await services.close();
  await rm(dir, { recursive: true, force: true });
});

describe('agent', () => {
  it('pulls a tagged image, then serves the blob from its disk cache', async () => {
    const m = await fetch(`${app.url}/v2/team/app/manifests/v1`);
    expect(m.status).toBe(200);
    expect(m.headers.get('docker-content-digest')).toBe(digestOf(manifest).value);
    expect(Buffer.from(await m.arrayBuffer()).equals(manifest)).toBe(true);

    const first = await fetch(`${app.url}/v2/team/app/blobs/${digestOf(layer).value}`);
    expect(Buffer.from(await first.arrayBuffer()).equals(layer)).toBe(true);
    const ranged = await fetch(`${app.url}/v2/team/app/blobs/${digestOf(layer).value}`, {
      headers: { range: 'bytes=10-19' },
    });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(10);

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    // The layer crossed the network once; the second and third reads came from disk.
    expect(metrics).toMatch(
      new RegExp(
        `kraken_agent_blob_fetch_bytes_total\\{source="origin"\\} ${layer.length + manifest.length}`,
      ),
    );
    expect(metrics).toMatch(/kraken_agent_blob_cache_reads_total 2/);
  });

  it('reports how a blob was fetched: small ones straight from an origin', async () => {
    const layerDigest = digestOf(layer).value;
    await fetch(`${app.url}/v2/team/app/blobs/${layerDigest}`).then((res) => res.arrayBuffer());
    const status = await fetch(`${app.url}/v1/blobs/${layerDigest}/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ digest: layerDigest, cached: true, state: 'done' });

    const unknown = await fetch(`${app.url}/v1/blobs/sha256:${'0'.repeat(64)}/status`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'KRAKEN_BLOB_NOT_CACHED' } });
    const bad = await fetch(`${app.url}/v1/blobs/sha256:nothex/status`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'KRAKEN_INVALID_DIGEST' } });
  });

  it('is read-only: pushes answer UNSUPPORTED', async () => {
    const res = await fetch(`${app.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(405);
    const body = (await res.json()) as { errors: { code: string }[] };
    expect(body.errors[0]?.code).toBe('UNSUPPORTED');
  });

  it('answers MANIFEST_UNKNOWN for an unknown tag', async () => {
    const res = await fetch(`${app.url}/v2/team/app/manifests/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('MANIFEST_UNKNOWN');
  });
});
