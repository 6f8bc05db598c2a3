import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '@kraken/oci-content';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blobKey } from '../../keys/blob-key.js';
import {
  InvalidKeyError,
  InvalidRangeError,
  ObjectNotFoundError,
  ReadOnlyBackendError,
  StorageUnavailableError,
  UpstreamResponseError,
} from '../../errors.js';
import { createHttpBackend } from './http-backend.js';
import { httpBackendSchema } from './http-config.js';
import type { StorageBackend } from '../../storage-backend.js';
import { startHttpFileServer, type HttpFileServer } from '../../testing/http-file-server.js';
import { describeStorageBackendConformance } from '../../testing/backend-conformance.js';
import type { BackendHarness } from '../../testing/conformance-harness.js';
import { readAll } from '../../testing/generated-stream.js';

const content = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
const digest = digestOf(content);
const key = blobKey(digest);

describe('http backend', () => {
  let dir: string;
  let server: HttpFileServer;
  let backend: StorageBackend;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'http-backend-'));
    await mkdir(join(dir, 'blobs'));
    await writeFile(join(dir, 'blobs', digest.value), content);
    await writeFile(join(dir, 'blobs', digestOf('').value), '');
    await mkdir(join(dir, 'raw', 'a'), { recursive: true });
    await writeFile(join(dir, 'raw', 'a', 'b'), 'by key');
    server = await startHttpFileServer({ root: dir });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await backend?.close();
  });

  const make = (template = `${server.url}/blobs/{digest}`, headers?: Record<string, string>) => {
    backend = createHttpBackend({ blobUrl: template, ...(headers ? { headers } : {}) });
    return backend;
  };

  it('stats with HEAD and reads a blob by digest', async () => {
    make(undefined, { 'x-token': 'secret' });
    expect(backend.name).toBe(`http:${server.url}`);
    const s = await backend.stat(key);
    expect(s?.size).toBe(content.length);
    expect(s?.modifiedAt.getTime()).toBeGreaterThan(0);
    expect(await readAll(await backend.read(key))).toEqual(content);
    const last = server.requests.at(-1);
    expect(last?.url).toBe(`/blobs/${encodeURIComponent(digest.value)}`);
    expect(last?.headers['x-token']).toBe('secret');
  });

  it('reads an empty blob', async () => {
    make();
    const empty = blobKey(digestOf(''));
    expect((await backend.stat(empty))?.size).toBe(0);
    expect((await readAll(await backend.read(empty))).length).toBe(0);
  });

  it('reads ranges with a verified 206, clamping the end', async () => {
    make();
    expect((await readAll(await backend.read(key, { start: 3, end: 5 }))).toString()).toBe('345');
    expect(server.requests.at(-1)?.headers.range).toBe('bytes=3-5');
    expect((await readAll(await backend.read(key, { start: 30, end: 1000 }))).toString()).toBe('uvwxyz');
  });

  it('rejects ranges outside the object with InvalidRangeError carrying the size', async () => {
    make();
    const past = backend.read(key, { start: 36, end: 40 });
    await expect(past).rejects.toBeInstanceOf(InvalidRangeError);
    await expect(past).rejects.toMatchObject({ size: 36 });
    await expect(backend.read(key, { start: 5, end: 2 })).rejects.toMatchObject({ size: 36 });
  });

  it('maps 404 to undefined and ObjectNotFoundError', async () => {
    make();
    const missing = blobKey(digestOf('missing'));
    expect(await backend.stat(missing)).toBeUndefined();
    await expect(backend.read(missing)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(backend.read(missing, { start: 0, end: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('treats keys the template cannot express as absent, and validates every key', async () => {
    make();
    expect(await backend.stat('repositories/x/_tags/latest')).toBeUndefined();
    await expect(backend.read('a/b')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(backend.stat('../etc/passwd')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(backend.read('a//b')).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('fills {key} with the whole key', async () => {
    make(`${server.url}/raw/{key}`);
    expect((await readAll(await backend.read('a/b'))).toString()).toBe('by key');
  });

  it('is read-only and lists nothing', async () => {
    make();
    await expect(backend.write(key, Readable.from([content]))).rejects.toBeInstanceOf(ReadOnlyBackendError);
    await expect(backend.delete(key)).rejects.toBeInstanceOf(ReadOnlyBackendError);
    await expect(backend.list({ prefix: 'blobs/' })).resolves.toEqual({
      keys: [],
      continuationToken: undefined,
    });
    await expect(backend.list({ prefix: '../' })).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('checks that the server answers', async () => {
    make();
    await expect(backend.check()).resolves.toBeUndefined();
  });

  it('reports an unreachable server as unavailable, naming the backend', async () => {
    const gone = await startHttpFileServer({ root: dir });
    await gone.close();
    make(`${gone.url}/blobs/{digest}`);
    const checked = backend.check();
    await expect(checked).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(checked).rejects.toThrow(`http:${gone.url}`);
    await expect(backend.stat(key)).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});

describe('http backend against unusual servers', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'http-backend-odd-'));
    await writeFile(join(dir, digest.hex), content);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('slices the whole body when the server ignores Range', async () => {
    const server = await startHttpFileServer({ root: dir, ranges: false });
    const backend = createHttpBackend({ blobUrl: `${server.url}/{hex}` });
    try {
      expect((await readAll(await backend.read(key, { start: 10, end: 12 }))).toString()).toBe('abc');
      expect((await readAll(await backend.read(key, { start: 34, end: 99 }))).toString()).toBe('yz');
      await expect(backend.read(key, { start: 36, end: 40 })).rejects.toBeInstanceOf(InvalidRangeError);
    } finally {
      await backend.close();
      await server.close();
    }
  });

  it('rejects a 206 for a different range than asked', async () => {
    const server = await startHttpFileServer({
      root: dir,
      intercept(req, res) {
        if (req.method !== 'GET') return false;
        res.writeHead(206, { 'content-range': 'bytes 0-2/36', 'content-length': '3' }).end('012');
        return true;
      },
    });
    const backend = createHttpBackend({ blobUrl: `${server.url}/{hex}` });
    try {
      await expect(backend.read(key, { start: 4, end: 6 })).rejects.toBeInstanceOf(UpstreamResponseError);
    } finally {
      await backend.close();
      await server.close();
    }
  });

  it('follows redirects and reports 5xx as transient upstream errors', async () => {
    let fail = true;
    const server = await startHttpFileServer({
      root: dir,
      intercept(req, res) {
        if (req.url?.startsWith('/moved/')) {
          res.writeHead(307, { location: `/${req.url.slice('/moved/'.length)}` }).end();
          return true;
        }
        if (req.url?.startsWith('/flaky/') && fail) {
          res.writeHead(503).end();
          return true;
        }
        return false;
      },
    });
    const moved = createHttpBackend({ blobUrl: `${server.url}/moved/{hex}` });
    const flaky = createHttpBackend({ blobUrl: `${server.url}/flaky/{hex}` });
    try {
      expect(await readAll(await moved.read(key))).toEqual(content);
      const failed = flaky.read(key);
      await expect(failed).rejects.toBeInstanceOf(UpstreamResponseError);
      await expect(failed).rejects.toMatchObject({ status: 503, transient: true });
      fail = false;
      await expect(flaky.read(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    } finally {
      await moved.close();
      await flaky.close();
      await server.close();
    }
  });
});

describe('http backend config', () => {
  it('accepts a template with placeholders and headers', () => {
    const parsed = httpBackendSchema.parse({
      type: 'http',
      blobUrl: 'https://m.example/b/{algorithm}/{hex}',
    });
    expect(parsed.headers).toEqual({});
  });

  it.each([
    ['https://m.example/b/{nope}', 'unknown placeholder'],
    ['https://m.example/b/fixed', 'no placeholder'],
    ['ftp://m.example/{digest}', 'only http and https'],
    ['https://u:p@m.example/{digest}', 'credentials'],
    ['not a url {digest}', 'not a URL'],
  ])('rejects %s', (blobUrl, message) => {
    const result = httpBackendSchema.safeParse({ type: 'http', blobUrl });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(message);
  });

  it('rejects unknown keys', () => {
    expect(
      httpBackendSchema.safeParse({ type: 'http', blobUrl: 'https://x/{digest}', extra: 1 }).success,
    ).toBe(false);
  });
});

interface HttpHarness extends BackendHarness {
  readonly dir: string;
}

describeStorageBackendConformance<HttpHarness>(
  'http',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'http-conformance-'));
    await mkdir(join(dir, 'blobs'));
    const server = await startHttpFileServer({ root: dir });
    const closed = await startHttpFileServer({ root: dir });
    await closed.close();
    return {
      dir,
      backend: createHttpBackend({ blobUrl: `${server.url}/blobs/{digest}` }),
      leftovers: async () => [],
      unavailableBackends: () => [createHttpBackend({ blobUrl: `${closed.url}/blobs/{digest}` })],
      async cleanup() {
        await server.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  {
    capabilities: {
      writable: false,
      keyFor: (content) => blobKey(digestOf(content)),
      seed: (harness, content) => writeFile(join(harness.dir, 'blobs', digestOf(content).value), content),
    },
  },
);
