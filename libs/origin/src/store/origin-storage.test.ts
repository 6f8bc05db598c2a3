import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createHttpServer, createMetrics, silentLogger, type Metrics } from '@kraken/service-kit';
import {
  backendResilienceSchema,
  backendRoutingSchema,
  blobKey,
  storageBackendSchema,
} from '@kraken/storage-backends';
import { createOriginRoutes } from '../api/routes.js';
import { createOriginStorage, type OriginStorage, type OriginStorageConfig } from './origin-storage.js';
import { originCacheSchema, writeBackSchema } from './store-config.js';

describe('origin storage wiring', () => {
  let dir: string;
  let storage: OriginStorage | undefined;
  let server: FastifyInstance | undefined;
  let metrics: Metrics;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-origin-storage-'));
    metrics = createMetrics('origin', { defaultMetrics: false });
  });
  afterEach(async () => {
    await server?.close();
    await storage?.close();
    server = undefined;
    storage = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** The storage behind the origin's /v1/ routes, as the origin app composes them. */
  const start = async (extra: Partial<OriginStorageConfig> = {}) => {
    const config: OriginStorageConfig = {
      storage: storageBackendSchema().parse({ type: 'filesystem', root: join(dir, 'store') }),
      storageResilience: backendResilienceSchema.parse({}),
      cache: originCacheSchema({ dir: join(dir, 'cache') }).parse(undefined),
      writeBack: writeBackSchema({ dbPath: join(dir, 'write-back.db') }).parse(undefined),
      ...extra,
    };
    const logger = silentLogger();
    storage = createOriginStorage(config, { logger, metrics });
    await storage.store.start();
    server = createHttpServer({ logger, metrics });
    await server.register(
      createOriginRoutes({ store: storage.store, uploadsDir: join(dir, 'uploads'), logger, metrics }),
    );
    return server;
  };
  const put = (app: FastifyInstance, body: string, namespace: string) =>
    app.inject({
      method: 'PUT',
      url: `/v1/blobs/${digestOf(body).value}?namespace=${encodeURIComponent(namespace)}`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: body,
    });
  const metricsText = () => metrics.registry.metrics();

  it('writes a pushed blob back to the backend and reports it', async () => {
    const app = await start();
    expect((await put(app, 'written back', 'library/alpine')).statusCode).toBe(201);
    const stored = join(dir, 'store', blobKey(digestOf('written back')));
    await expect.poll(() => readFile(stored, 'utf8').catch(() => undefined)).toBe('written back');
    await expect.poll(metricsText).toContain('kraken_origin_write_backs_total{result="success"} 1');
    const text = await metricsText();
    expect(text).toContain('kraken_origin_write_back_queue_depth 0');
    expect(text).toContain('kraken_origin_cache_bytes 12');
    expect((await app.inject({ url: '/metrics' })).body).toContain('kraken_origin_cache_pinned_blobs 0');
  });

  it('registers every storage metric of the origin, named as its README lists them', async () => {
    await start();
    const names = (await metrics.registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => !n.includes('http'));
    expect(names.sort()).toEqual(
      [
        'cache_bytes',
        'cache_evicted_bytes_total',
        'cache_evictions_total',
        'cache_pinned_blobs',
        'read_through_fills_active',
        'read_through_fills_total',
        'storage_retries_total',
        'storage_timeouts_total',
        'write_back_failed_jobs',
        'write_back_oldest_pending_seconds',
        'write_back_queue_depth',
        'write_backs_total',
        // The routes' own.
        'blob_bytes_served_total',
        'blob_bytes_stored_total',
        'blobs_deleted_total',
        'blobs_stored_total',
      ]
        .map((name) => `kraken_origin_${name}`)
        .sort(),
    );
  });

  it('takes in a committed chunked upload without copying it, and writes it back', async () => {
    const app = await start();
    const created = await app.inject({ method: 'POST', url: '/v1/uploads' });
    const { uploadId } = created.json<{ uploadId: string }>();
    const octets = { 'content-type': 'application/octet-stream' };
    const patch = await app.inject({
      method: 'PATCH',
      url: `/v1/uploads/${uploadId}`,
      headers: octets,
      payload: 'chunked ',
    });
    expect(patch.statusCode).toBe(202);
    const digest = digestOf('chunked upload');
    const commit = await app.inject({
      method: 'PUT',
      url: `/v1/uploads/${uploadId}?digest=${digest.value}&namespace=team/app`,
      headers: octets,
      payload: 'upload',
    });
    expect(commit.statusCode).toBe(201);
    expect(await readdir(join(dir, 'uploads'))).toEqual([]);
    const stored = join(dir, 'store', blobKey(digest));
    await expect.poll(() => readFile(stored, 'utf8').catch(() => undefined)).toBe('chunked upload');
  });

  it('routes by namespace and refuses a namespace no rule matches at upload time', async () => {
    const app = await start({
      storageRouting: backendRoutingSchema().parse([
        { namespace: 'library/.*', backend: { type: 'filesystem', root: join(dir, 'library') } },
      ]),
    });
    expect((await put(app, 'routed', 'library/busybox')).statusCode).toBe(201);
    const routed = join(dir, 'library', blobKey(digestOf('routed')));
    await expect.poll(() => readFile(routed, 'utf8').catch(() => undefined)).toBe('routed');

    const refused = await put(app, 'nowhere', 'team/app');
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ error: { code: 'KRAKEN_NO_BACKEND_FOR_NAMESPACE' } });
    expect((await app.inject({ url: `/v1/blobs/${digestOf('nowhere').value}` })).statusCode).toBe(404);
  });
});
