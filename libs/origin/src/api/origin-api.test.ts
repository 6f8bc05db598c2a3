import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestFromHex, digestOf } from '@kraken/oci-content';
import { createHttpServer, createMetrics, silentLogger, type Metrics } from '@kraken/service-kit';
import {
  createContentStore,
  createFilesystemBackend,
  FILESYSTEM_TEMP_DIR,
  type ContentStore,
  type StorageBackend,
} from '@kraken/storage-backends';
import {
  failingStream,
  generatedSha256,
  generatedStream,
  readAll,
  sha256OfStream,
  stallingStream,
} from '@kraken/storage-backends/testing';
import type { OriginClient, OriginUploadClient } from '../client/client-types.js';
import { createOriginClient } from '../client/origin-client.js';
import { originLimitsSchema, type OriginLimits } from './limits.js';
import { createOriginRoutes } from './routes.js';

interface Harness {
  url: string;
  client: OriginClient & OriginUploadClient;
  backend: StorageBackend;
  store: ContentStore;
  metrics: Metrics;
  uploadsDir: string;
  /** Resolves when the routes start their next store write, with that write's settled outcome. */
  nextWrite(): Promise<{ settled: Promise<unknown> }>;
  clock: { now: number };
  close(): Promise<void>;
}

async function startOrigin(limits: Partial<OriginLimits> = {}, ready = true): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-origin-api-'));
  const backend = createFilesystemBackend({ root: join(dir, 'store') });
  const real = createContentStore({ backend });
  const waiting: ((write: { settled: Promise<unknown> }) => void)[] = [];
  // Observe the routes' writes, so tests can wait for the server side of an abort.
  const store: ContentStore = {
    ...real,
    write: (...args) => {
      const result = real.write(...args);
      const settled = result.then(
        () => 'stored',
        (err: unknown) => err,
      );
      for (const resolve of waiting.splice(0)) resolve({ settled });
      return result;
    },
  };
  const nextWrite = () => new Promise<{ settled: Promise<unknown> }>((resolve) => waiting.push(resolve));
  const metrics = createMetrics('origin', { defaultMetrics: false });
  const logger = silentLogger();
  const clock = { now: 1_000_000 };
  const uploadsDir = join(dir, 'uploads');
  const app: FastifyInstance = createHttpServer({
    logger,
    metrics,
    readinessChecks: [
      {
        name: 'storage',
        check: async () => {
          if (!ready) throw new Error('disk gone');
        },
      },
    ],
  });
  await app.register(
    createOriginRoutes({
      store,
      uploadsDir,
      limits: originLimitsSchema.parse(limits),
      logger,
      metrics,
      now: () => clock.now,
    }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const client = createOriginClient({ url });
  return {
    url,
    client,
    backend,
    store: real,
    metrics,
    uploadsDir,
    nextWrite,
    clock,
    async close() {
      await client.close();
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const body = (s: string | Buffer) => Readable.from([Buffer.from(s)]);

describe('origin API (routes + client)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startOrigin();
  });
  afterEach(async () => {
    await h.close();
  });

  async function nothingStored(): Promise<void> {
    expect((await h.backend.list()).keys).toEqual([]);
    const temp = await readdir(join(h.store.name.slice('fs:'.length), FILESYSTEM_TEMP_DIR)).catch(() => []);
    expect(temp).toEqual([]);
  }

  async function raw(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ) {
    const response = await request(`${h.url}${path}`, {
      method: method as 'GET',
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      headers: response.headers,
      text,
      json: () => JSON.parse(text) as unknown,
    };
  }

  it('stores, stats, streams and deletes a blob', async () => {
    const digest = digestOf('hello origin');
    expect(await h.client.statBlob(digest)).toBeUndefined();
    expect(await h.client.getBlob(digest)).toBeUndefined();
    await h.client.putBlob(digest, body('hello origin'), { size: 12 });
    expect(await h.client.statBlob(digest)).toEqual({ size: 12 });
    const stream = await h.client.getBlob(digest);
    expect((await readAll(stream!)).toString()).toBe('hello origin');
    expect(await h.client.deleteBlob(digest)).toBe(true);
    expect(await h.client.deleteBlob(digest)).toBe(false);
    expect(await h.client.statBlob(digest)).toBeUndefined();
  });

  it('accepts a PUT of a blob it already has', async () => {
    const digest = digestOf('twice');
    await h.client.putBlob(digest, body('twice'));
    await h.client.putBlob(digest, body('twice'));
    expect(await h.client.statBlob(digest)).toEqual({ size: 5 });
  });

  it('serves byte ranges', async () => {
    const digest = digestOf('0123456789');
    await h.client.putBlob(digest, body('0123456789'));
    expect(
      (await readAll((await h.client.getBlob(digest, { range: { start: 3, end: 6 } }))!)).toString(),
    ).toBe('3456');
    expect(
      (await readAll((await h.client.getBlob(digest, { range: { start: 8, end: 50 } }))!)).toString(),
    ).toBe('89');
    await expect(h.client.getBlob(digest, { range: { start: 10, end: 12 } })).rejects.toMatchObject({
      code: 'KRAKEN_RANGE_NOT_SATISFIABLE',
      statusCode: 416,
    });

    const partial = await raw('GET', `/v1/blobs/${digest.value}`, { headers: { range: 'bytes=-4' } });
    expect(partial).toMatchObject({ status: 206, text: '6789' });
    expect(partial.headers['content-range']).toBe('bytes 6-9/10');
    expect(partial.headers['content-length']).toBe('4');
    const unsatisfiable = await raw('GET', `/v1/blobs/${digest.value}`, { headers: { range: 'bytes=20-' } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe('bytes */10');
    const head = await raw('HEAD', `/v1/blobs/${digest.value}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('10');
  });

  it('refuses content that does not match the digest and stores nothing', async () => {
    const digest = digestOf('what was promised');
    await expect(h.client.putBlob(digest, body('something else'))).rejects.toMatchObject({
      code: 'KRAKEN_DIGEST_MISMATCH',
      statusCode: 400,
      detail: { expected: digest.value, actual: digestOf('something else').value },
    });
    expect(await h.client.statBlob(digest)).toBeUndefined();
    await nothingStored();
  });

  /** A body that sends some data, then waits until the origin is writing before `then` runs. */
  function bodyFailingOnceWriting(then: (stream: Readable) => void): {
    source: Readable;
    written: Promise<unknown>;
  } {
    const writing = h.nextWrite();
    let sent = false;
    const source = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(Buffer.alloc(256 * 1024, 3));
        void writing.then(() => then(this));
      },
    });
    return { source, written: writing.then((write) => write.settled) };
  }

  it('stores nothing when the client fails mid-upload', async () => {
    const digest = digestOf('never completes');
    const { source, written } = bodyFailingOnceWriting((s) => s.destroy(new Error('source failed')));
    await expect(h.client.putBlob(digest, source)).rejects.toThrow('source failed');
    await expect(written).resolves.toBeInstanceOf(Error);
    await nothingStored();
  });

  it('stores nothing when the client aborts mid-upload', async () => {
    const digest = digestOf('aborted');
    const controller = new AbortController();
    const { source, written } = bodyFailingOnceWriting(() => controller.abort());
    await expect(h.client.putBlob(digest, source, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(written).resolves.toBeInstanceOf(Error);
    await nothingStored();
  });

  it('streams a large blob through PUT and GET', { timeout: 120_000 }, async () => {
    const size = 64 * 1024 * 1024;
    const digest = digestFromHex('sha256', generatedSha256(size));
    await h.client.putBlob(digest, generatedStream(size), { size });
    expect(await sha256OfStream((await h.client.getBlob(digest))!)).toEqual({ hex: digest.hex, bytes: size });
    const metrics = await h.metrics.registry.metrics();
    expect(metrics).toContain(`kraken_origin_blob_bytes_stored_total ${size}`);
    expect(metrics).toContain('kraken_origin_blobs_stored_total 1');
    // Served bytes are counted when the server's read stream ends, which can trail
    // the client's last byte within this one process.
    await expect
      .poll(() => h.metrics.registry.metrics())
      .toContain(`kraken_origin_blob_bytes_served_total ${size}`);
  });

  it('rejects digests that are malformed or try to traverse with 400', async () => {
    const bad = [
      '..%2F..%2Fetc%2Fpasswd',
      'sha256:..%2F..%2Fetc',
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(63)}`,
      `md5:${'a'.repeat(32)}`,
      `sha256%3A${'a'.repeat(64)}%2F..`,
      '%2e',
    ];
    for (const digest of bad) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await raw(method, `/v1/blobs/${digest}`, method === 'PUT' ? { body: 'x' } : {});
        expect(response.status, `${method} ${digest}`).toBe(400);
        expect(response.json()).toMatchObject({ error: { code: 'KRAKEN_INVALID_DIGEST' } });
      }
      expect((await raw('HEAD', `/v1/blobs/${digest}`)).status).toBe(400);
    }
    // Dot segments are resolved by the router before any handler sees them.
    expect((await raw('PUT', '/v1/blobs/%2e%2e', { body: 'x' })).status).toBe(404);
    await nothingStored();
  });

  it('answers unknown blobs with a 404 error body', async () => {
    const digest = digestOf('absent');
    const response = await raw('GET', `/v1/blobs/${digest.value}`);
    expect(response.status).toBe(404);
    expect(response.json()).toEqual({
      error: {
        code: 'KRAKEN_BLOB_NOT_FOUND',
        message: `blob ${digest.value} not found`,
        detail: { digest: digest.value },
      },
    });
  });

  it('uploads a blob in ordered chunks', async () => {
    const content = 'first chunk|second chunk|third';
    const digest = digestOf(content);
    const id = await h.client.createUpload();
    expect(await h.client.uploadOffset(id)).toBe(0);
    expect(await h.client.uploadChunk(id, body('first chunk|'), { start: 0, size: 12 })).toBe(12);
    expect(await h.client.uploadChunk(id, body('second chunk|'), { start: 12 })).toBe(25);
    await expect(h.client.uploadChunk(id, body('third'), { start: 12 })).rejects.toMatchObject({
      code: 'KRAKEN_UPLOAD_OUT_OF_ORDER',
      statusCode: 416,
      detail: { offset: 25 },
    });
    expect(await h.client.uploadChunk(id, body('third'), { start: 25 })).toBe(30);
    expect(await h.client.uploadOffset(id)).toBe(30);
    expect(await h.client.statBlob(digest)).toBeUndefined();
    await h.client.commitUpload(id, digest);
    expect((await readAll((await h.client.getBlob(digest))!)).toString()).toBe(content);
    expect(await h.client.uploadOffset(id)).toBeUndefined();
    expect(await readdir(h.uploadsDir)).toEqual([]);
  });

  it('takes Content-Range chunks and a last chunk on commit', async () => {
    const digest = digestOf('abcdefgh');
    const id = await h.client.createUpload();
    const patch = await raw('PATCH', `/v1/uploads/${id}`, {
      headers: { 'content-range': '0-3' },
      body: 'abcd',
    });
    expect(patch).toMatchObject({ status: 202 });
    expect(patch.json()).toEqual({ uploadId: id, offset: 4 });
    const gap = await raw('PATCH', `/v1/uploads/${id}`, {
      headers: { 'content-range': 'bytes 6-7/*' },
      body: 'gh',
    });
    expect(gap.status).toBe(416);
    const lying = await raw('PATCH', `/v1/uploads/${id}`, {
      headers: { 'content-range': '4-9' },
      body: 'ef',
    });
    expect(lying.status).toBe(400);
    const commit = await raw('PUT', `/v1/uploads/${id}?digest=${digest.value}`, { body: 'efgh' });
    expect(commit.status).toBe(201);
    expect(await h.client.statBlob(digest)).toEqual({ size: 8 });
  });

  it('refuses a commit whose content does not match and keeps the session', async () => {
    const id = await h.client.createUpload();
    await h.client.uploadChunk(id, body('real content'), { start: 0 });
    const claimed = digestOf('other content');
    await expect(h.client.commitUpload(id, claimed)).rejects.toMatchObject({
      code: 'KRAKEN_DIGEST_MISMATCH',
    });
    expect(await h.client.statBlob(claimed)).toBeUndefined();
    expect(await h.client.uploadOffset(id)).toBe(12);
    expect(await h.client.cancelUpload(id)).toBe(true);
    expect(await h.client.cancelUpload(id)).toBe(false);
    await expect(h.client.commitUpload(id, digestOf('real content'))).rejects.toMatchObject({
      code: 'KRAKEN_UPLOAD_NOT_FOUND',
      statusCode: 404,
    });
    await nothingStored();
  });

  it('cuts a chunk that fails half-way back off the session', async () => {
    const id = await h.client.createUpload();
    await h.client.uploadChunk(id, body('kept'), { start: 0 });
    await expect(h.client.uploadChunk(id, failingStream(100_000), { start: 4 })).rejects.toThrow(
      'source failed',
    );
    // The server notices the disconnect on its own schedule; the session is busy until then.
    await expect.poll(() => h.client.uploadOffset(id)).toBe(4);
    await expect
      .poll(() => h.client.uploadChunk(id, body('more'), { start: 4 }).catch((e: unknown) => e))
      .toBe(8);
  });

  it('lets one request at a time write to a session', async () => {
    const id = await h.client.createUpload();
    const controller = new AbortController();
    let stalled!: () => void;
    const stalledOnce = new Promise<void>((resolve) => (stalled = resolve));
    const first = h.client.uploadChunk(
      id,
      stallingStream(1024, () => stalled()),
      { start: 0, signal: controller.signal },
    );
    await stalledOnce;
    // A probe at a wrong offset never writes: it reports busy once the first chunk is
    // being written, and out-of-order until then.
    await expect
      .poll(() =>
        h.client
          .uploadChunk(id, body('x'), { start: 999 })
          .catch((e: unknown) => (e as { code?: string }).code),
      )
      .toBe('KRAKEN_UPLOAD_BUSY');
    controller.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await expect.poll(() => h.client.uploadChunk(id, body('x'), { start: 0 }).catch(() => -1)).toBe(1);
  });

  it('rejects malformed upload ids and digests before touching disk', async () => {
    for (const id of [
      '..%2F..%2Fetc',
      'not-a-uuid',
      '%2e',
      `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(11)}%2F`,
    ]) {
      const response = await raw('GET', `/v1/uploads/${id}`);
      expect(response.status, id).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'KRAKEN_INVALID_REQUEST' } });
    }
    const id = await h.client.createUpload();
    expect((await raw('PUT', `/v1/uploads/${id}`)).status).toBe(400);
    expect((await raw('PUT', `/v1/uploads/${id}?digest=sha256:..%2F..`)).json()).toMatchObject({
      error: { code: 'KRAKEN_INVALID_DIGEST' },
    });
    expect(
      (await raw('PATCH', `/v1/uploads/${id}`, { headers: { 'upload-offset': '-1' }, body: 'x' })).status,
    ).toBe(400);
  });

  it('answers readiness through ping and reports an unreachable origin', async () => {
    await expect(h.client.ping()).resolves.toBeUndefined();
    const down = await startOrigin({}, false);
    await expect(down.client.ping()).rejects.toMatchObject({ code: 'KRAKEN_NOT_READY' });
    await down.close();
    const gone = createOriginClient({ url: down.url });
    await expect(gone.statBlob(digestOf('x'))).rejects.toMatchObject({ code: 'KRAKEN_SERVICE_UNREACHABLE' });
    await gone.close();
    await gone.close();
  });
});

describe('origin API limits', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('refuses blobs over the size cap', async () => {
    h = await startOrigin({ maxBlobBytes: 100 });
    const big = Buffer.alloc(101, 1);
    await expect(h.client.putBlob(digestOf(big), body(big), { size: 101 })).rejects.toMatchObject({
      code: 'KRAKEN_CONTENT_TOO_LARGE',
      statusCode: 413,
    });
    const id = await h.client.createUpload();
    await h.client.uploadChunk(id, body(Buffer.alloc(60)), { start: 0, size: 60 });
    await expect(
      h.client.uploadChunk(id, body(Buffer.alloc(60)), { start: 60, size: 60 }),
    ).rejects.toMatchObject({
      code: 'KRAKEN_CONTENT_TOO_LARGE',
    });
    expect(await h.client.uploadOffset(id)).toBe(60);
  });

  it('caps open upload sessions and sweeps expired ones', async () => {
    h = await startOrigin({ maxUploadSessions: 2, uploadTtlSeconds: 60 });
    const first = await h.client.createUpload();
    await h.client.createUpload();
    await expect(h.client.createUpload()).rejects.toMatchObject({
      code: 'KRAKEN_TOO_MANY_UPLOADS',
      statusCode: 429,
    });
    h.clock.now += 61_000;
    const third = await h.client.createUpload();
    expect(await h.client.uploadOffset(first)).toBeUndefined();
    expect(await h.client.uploadOffset(third)).toBe(0);
    expect(await readdir(h.uploadsDir)).toEqual([third]);
  });
});
