import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '@kraken/oci-content';
import { createMetrics, silentLogger } from '@kraken/service-kit';
import {
  createContentStore,
  createFilesystemBackend,
  NoBackendForNamespaceError,
} from '@kraken/storage-backends';
import { type OriginBlobWriteOptions } from '../store/blob-store.js';
import { createOriginRoutes } from './routes.js';

let dir: string;
let app: FastifyInstance;
let writes: { digest: string; namespace: string | undefined }[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'origin-namespace-'));
  writes = [];
  const real = createContentStore({ backend: createFilesystemBackend({ root: join(dir, 'store') }) });
  const store = {
    ...real,
    // Like the origin's store: the namespace is checked before the body is read.
    async write(digest: Digest, source: Readable, options: OriginBlobWriteOptions = {}) {
      const { namespace, ...rest } = options;
      if (namespace?.startsWith('private/')) throw new NoBackendForNamespaceError(namespace, ['library/.*']);
      writes.push({ digest: digest.value, namespace });
      return real.write(digest, source, rest);
    },
  };
  app = Fastify();
  await app.register(
    createOriginRoutes({
      store,
      uploadsDir: join(dir, 'uploads'),
      logger: silentLogger(),
      metrics: createMetrics('origin_ns', { defaultMetrics: false }),
    }),
  );
});
afterEach(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const body = Buffer.from('namespaced blob');
const digest = digestOf(body);
const octets = { 'content-type': 'application/octet-stream' };

describe('origin blob namespace', () => {
  it('passes ?namespace= of a PUT and of an upload commit to the store', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: `/v1/blobs/${digest.value}?namespace=library/alpine`,
      headers: octets,
      payload: body,
    });
    expect(put.statusCode).toBe(201);
    const created = await app.inject({ method: 'POST', url: '/v1/uploads' });
    const { uploadId } = created.json<{ uploadId: string }>();
    const commit = await app.inject({
      method: 'PUT',
      url: `/v1/uploads/${uploadId}?digest=${digest.value}&namespace=team/app`,
      headers: octets,
      payload: body,
    });
    expect(commit.statusCode).toBe(201);
    const plain = await app.inject({
      method: 'PUT',
      url: `/v1/blobs/${digest.value}`,
      headers: octets,
      payload: body,
    });
    expect(plain.statusCode).toBe(201);
    expect(writes).toEqual([
      { digest: digest.value, namespace: 'library/alpine' },
      { digest: digest.value, namespace: 'team/app' },
      { digest: digest.value, namespace: undefined },
    ]);
  });

  it('rejects a malformed namespace before storing anything', async () => {
    for (const bad of ['../etc', 'UPPER/case', '']) {
      const response = await app.inject({
        method: 'PUT',
        url: `/v1/blobs/${digest.value}?namespace=${encodeURIComponent(bad)}`,
        headers: octets,
        payload: body,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'KRAKEN_INVALID_REPOSITORY_NAME' } });
    }
    expect(writes).toEqual([]);
  });

  it('answers an upload to a namespace no backend takes with a 4xx error body', async () => {
    const response = await app.inject({
      method: 'PUT',
      url: `/v1/blobs/${digest.value}?namespace=private/thing`,
      headers: octets,
      payload: body,
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.json()).toMatchObject({
      error: { code: 'KRAKEN_NO_BACKEND_FOR_NAMESPACE', message: expect.stringMatching(/private\/thing/) },
    });
  });
});
