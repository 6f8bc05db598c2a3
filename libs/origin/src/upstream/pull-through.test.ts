/**
 * Pull-through on the origin: upstream content read through the origin's cache over its
 * /v1/ API, with a scripted upstream that counts requests and fails on demand.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { createManualClock, type ManualClock } from '@kraken/foundation/testing';
import { createHttpServer, createMetrics, silentLogger } from '@kraken/service-kit';
import { createContentCache, createFilesystemBackend } from '@kraken/storage-backends';
import { digestOf } from '@kraken/oci-content';
import { createOriginRoutes } from '../api/routes.js';
import { createOriginClient } from '../client/origin-client.js';
import type { OriginNodeClient } from '../client/client-types.js';
import { createOriginBlobStore, type OriginBlobStore } from '../store/blob-store.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../testing/scripted-upstream.js';
import { createOriginUpstreams, type OriginUpstreams } from './origin-upstreams.js';
import { originUpstreamSchema } from './upstream-config.js';
import type { UpstreamRef } from './upstream-ref.js';

let dir: string;
let upstream: ScriptedUpstream;
let clock: ManualClock;
let store: OriginBlobStore;
let upstreams: OriginUpstreams;
let url: string;
let client: OriginNodeClient;
let closeServer: () => Promise<void>;

async function startOrigin(extra: Record<string, unknown> = {}): Promise<void> {
  const config = originUpstreamSchema.parse({
    name: 'docker.io',
    url: upstream.url,
    tagCacheSeconds: 5,
    staleIfErrorSeconds: 60,
    resilience: { retry: { maxAttempts: 1 }, timeouts: { operationMs: 500, firstByteMs: 500 } },
    ...extra,
  });
  const cacheDir = join(dir, 'cache');
  store = createOriginBlobStore({
    cache: createContentCache({ root: cacheDir, maxBytes: 0 }),
    cacheDir,
    backends: { default: createFilesystemBackend({ root: join(dir, 'store') }) },
    writeBack: { dbPath: join(dir, 'write-back.db'), concurrency: 1 },
  });
  await store.start();
  const metrics = createMetrics('origin', { defaultMetrics: false });
  upstreams = createOriginUpstreams([config], { metrics, clock });
  const app = createHttpServer({ logger: silentLogger(), metrics, readinessChecks: [] });
  await app.register(
    createOriginRoutes({
      store,
      uploadsDir: join(dir, 'uploads'),
      logger: silentLogger(),
      metrics,
      upstreams: {
        reader: (ref) => store.through(upstreams.source(ref)),
        resolveTag: (registry, repository, tag) => upstreams.resolveTag(registry, repository, tag),
      },
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  client = createOriginClient({ url });
  closeServer = async () => {
    await client.close();
    await app.close();
    await upstreams.close();
    await store.close();
  };
}

const read = async (stream: NodeJS.ReadableStream | undefined) => {
  if (stream === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'origin-pull-through-'));
  upstream = await startScriptedUpstream();
  clock = createManualClock(1_000_000);
});

afterEach(async () => {
  await closeServer();
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('origin pull-through', () => {
  it('resolves tags once per cache window and forgets tags the upstream dropped', async () => {
    await startOrigin();
    const image = upstream.addImage('library/nginx', '1.27', Buffer.from('layer'));
    const tagPath = '/v2/library/nginx/manifests/1.27';
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => client.resolveUpstreamTag('docker.io', 'library/nginx', '1.27')),
    );
    expect(answers.map((a) => a?.digest)).toEqual(Array(4).fill(image.manifest.value));
    expect(answers.every((a) => a?.stale === false)).toBe(true);
    expect(upstream.count('HEAD', tagPath)).toBe(1);

    await clock.advance(4_000);
    await client.resolveUpstreamTag('docker.io', 'library/nginx', '1.27');
    expect(upstream.count('HEAD', tagPath)).toBe(1);
    await clock.advance(2_000);
    await client.resolveUpstreamTag('docker.io', 'library/nginx', '1.27');
    expect(upstream.count('HEAD', tagPath)).toBe(2);

    expect(await client.resolveUpstreamTag('docker.io', 'library/nginx', 'nope')).toBeUndefined();
    await expect(client.resolveUpstreamTag('ghcr.io', 'org/app', 'v1')).rejects.toMatchObject({
      code: 'KRAKEN_UPSTREAM_UNKNOWN',
      statusCode: 404,
    });
  });

  it('fetches each blob once from the upstream however many clients ask at the same time', async () => {
    await startOrigin();
    const layer = Buffer.alloc(3 * 1024 * 1024, 7);
    const image = upstream.addImage('library/redis', '7', layer);
    const blobRef: UpstreamRef = { registry: 'docker.io', repository: 'library/redis', kind: 'blob' };
    const manifestRef: UpstreamRef = { ...blobRef, kind: 'manifest' };
    const clients = [1, 2, 3, 4].map(() => createOriginClient({ url }));
    try {
      const results = await Promise.all(
        clients.map(async (c) => {
          const stat = await c.statUpstream(image.layer, blobRef);
          const bytes = await read(await c.getBlob(image.layer, { upstream: blobRef }));
          const manifest = await read(await c.getBlob(image.manifest, { upstream: manifestRef }));
          return { stat, bytes, manifest };
        }),
      );
      for (const r of results) {
        expect(r.stat).toEqual({ size: layer.length });
        expect(r.bytes?.equals(layer)).toBe(true);
        expect(r.manifest?.equals(image.manifestBytes)).toBe(true);
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    expect(upstream.count('GET', `/v2/library/redis/blobs/${image.layer.value}`)).toBe(1);
    expect(upstream.count('GET', `/v2/library/redis/manifests/${image.manifest.value}`)).toBe(1);
    // Now cached: a later read, and the metainfo the tracker asks for, need no upstream.
    await vi.waitFor(() => expect(store.activeFills()).toBe(0));
    expect(await store.stat(image.layer)).toEqual({ size: layer.length });
    expect((await client.getMetainfo(image.layer))?.size).toBe(layer.length);
    upstream.mode = 'down';
    expect((await read(await client.getBlob(image.layer, { upstream: blobRef })))?.equals(layer)).toBe(true);
  });

  it('answers the last tag, marked stale, while the upstream is down, and an error past the limit', async () => {
    await startOrigin();
    const image = upstream.addImage('library/alpine', '3', Buffer.from('alpine'));
    expect(await client.resolveUpstreamTag('docker.io', 'library/alpine', '3')).toMatchObject({
      digest: image.manifest.value,
      stale: false,
    });
    upstream.mode = 'down';
    await clock.advance(30_000);
    expect(await client.resolveUpstreamTag('docker.io', 'library/alpine', '3')).toEqual({
      digest: image.manifest.value,
      stale: true,
      ageSeconds: 30,
    });
    await clock.advance(31_000);
    await expect(client.resolveUpstreamTag('docker.io', 'library/alpine', '3')).rejects.toMatchObject({
      code: 'KRAKEN_UPSTREAM_UNAVAILABLE',
      statusCode: 502,
    });
    // A tag never seen has nothing to fall back on.
    await expect(client.resolveUpstreamTag('docker.io', 'library/alpine', '4')).rejects.toMatchObject({
      code: 'KRAKEN_UPSTREAM_UNAVAILABLE',
    });
  });

  it('caches nothing of a manifest whose bytes do not match its digest', async () => {
    await startOrigin();
    const image = upstream.addImage('library/liar', '1', Buffer.from('x'));
    upstream.lie(image);
    const ref: UpstreamRef = { registry: 'docker.io', repository: 'library/liar', kind: 'manifest' };
    await expect(
      (async () => read(await client.getBlob(image.manifest, { upstream: ref })))(),
    ).rejects.toBeDefined();
    expect(await store.stat(image.manifest)).toBeUndefined();
  });

  it('gives up on an upstream that hangs, and serves again once it answers', async () => {
    await startOrigin();
    const image = upstream.addImage('library/slow', '1', Buffer.from('slow layer'));
    const ref: UpstreamRef = { registry: 'docker.io', repository: 'library/slow', kind: 'blob' };
    upstream.mode = 'hang';
    await expect(client.statUpstream(image.layer, ref)).rejects.toMatchObject({ statusCode: 504 });
    expect(await store.stat(image.layer)).toBeUndefined();
    upstream.mode = 'up';
    expect(await client.statUpstream(image.layer, ref)).toEqual({ size: 10 });
  });

  it('sends credentials from the file and never shows them in an error', async () => {
    const file = join(dir, 'creds.json');
    await writeFile(file, JSON.stringify({ username: 'puller', password: 's3cret-value' }));
    upstream.credentials = { username: 'puller', password: 's3cret-value' };
    await startOrigin({ credentialsFile: file });
    const image = upstream.addImage('org/private', 'v1', Buffer.from('private'));
    expect((await client.resolveUpstreamTag('docker.io', 'org/private', 'v1'))?.digest).toBe(
      image.manifest.value,
    );
    upstream.credentials = { username: 'puller', password: 'rotated' };
    const failure = await client.resolveUpstreamTag('docker.io', 'org/private', 'v2').catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(JSON.stringify(failure) + String((failure as Error).message)).not.toContain('s3cret-value');
  });

  it('refuses malformed upstream parameters and unknown upstreams', async () => {
    await startOrigin();
    const digest = digestOf(Buffer.from('any')).value;
    const status = async (path: string) => {
      const res = await request(`${url}${path}`, { method: 'HEAD' });
      await res.body.dump();
      return res.statusCode;
    };
    expect(await status(`/v1/blobs/${digest}?upstream=Bad!Host&repository=a/b`)).toBe(400);
    expect(await status(`/v1/blobs/${digest}?upstream=docker.io`)).toBe(400);
    expect(await status(`/v1/blobs/${digest}?upstream=docker.io&repository=../etc`)).toBe(400);
    expect(await status(`/v1/blobs/${digest}?upstream=docker.io&repository=a/b&kind=tarball`)).toBe(400);
    expect(await status(`/v1/blobs/${digest}?upstream=quay.io&repository=a/b`)).toBe(404);
    const res = await request(`${url}/v1/upstreams/docker.io/tags?repository=a/b&tag=bad:tag`);
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('KRAKEN_INVALID_TAG');
  });
});

describe('upstream config', () => {
  it('refuses credentials in the URL and duplicate names', async () => {
    const { originUpstreamsSchema } = await import('./upstream-config.js');
    expect(
      originUpstreamsSchema.safeParse([{ name: 'docker.io', url: 'https://u:p@registry-1.docker.io' }])
        .success,
    ).toBe(false);
    expect(
      originUpstreamsSchema.safeParse([
        { name: 'docker.io', url: 'https://a.example' },
        { name: 'docker.io', url: 'https://b.example' },
      ]).success,
    ).toBe(false);
    expect(originUpstreamsSchema.safeParse([{ name: 'Docker.io/x', url: 'https://a.example' }]).success).toBe(
      false,
    );
  });
});
