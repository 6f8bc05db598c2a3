/**
 * Behaviour that only shows on a real socket: raw (unnormalised) paths, a client that
 * disconnects mid-upload, bodies far larger than anything buffered, early rejection.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDigester } from '@kraken/oci-content';
import { createTestRegistry, type TestRegistry } from './testing/test-registry.js';
import { testBlob } from './testing/oci-fixtures.js';

const REPO = 'team/app';

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

describe('registry API over a socket', () => {
  let registry: TestRegistry;
  let port: number;

  beforeEach(async () => {
    registry = await createTestRegistry({ limits: { maxUploadBytes: 64 * 1024 * 1024 } });
    await registry.app.listen({ port: 0, host: '127.0.0.1' });
    const address = registry.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    port = address.port;
  });
  afterEach(() => registry.close());

  /** Sends bytes exactly as given (no client-side path normalisation) and reads one response. */
  function raw(head: string, body: Buffer = Buffer.alloc(0)): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('end', () => {
        const text = Buffer.concat(chunks);
        const split = text.indexOf('\r\n\r\n');
        const lines = text.subarray(0, split).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        resolve({ status: Number(lines[0]?.split(' ')[1]), headers, body: text.subarray(split + 4) });
      });
      socket.write(`${head}\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      socket.end(body);
    });
  }

  function request(
    method: string,
    path: string,
    options: { headers?: Record<string, string | number>; body?: Buffer | AsyncIterable<Buffer> } = {},
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      const body = options.body;
      if (body === undefined || Buffer.isBuffer(body)) {
        req.end(body);
        return;
      }
      (async () => {
        for await (const chunk of body) {
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch(reject);
    });
  }

  async function startSession(): Promise<string> {
    const res = await request('POST', `/v2/${REPO}/blobs/uploads/`);
    expect(res.status).toBe(202);
    return String(res.headers['location']);
  }

  it.each([
    ['/v2/../../etc/passwd/manifests/latest', 'NAME_INVALID'],
    ['/v2/team/../../etc/manifests/latest', 'NAME_INVALID'],
    ['/v2/team/app/manifests/..', 'NAME_INVALID'],
    ['/v2/%2e%2e/%2e%2e/etc/manifests/latest', 'NAME_INVALID'],
    ['/v2/team%2f..%2f..%2fetc/manifests/latest', 'NAME_INVALID'],
    ['/v2/team\\..\\etc/manifests/latest', 'NAME_INVALID'],
    ['/v2/team/app/blobs/..%2F..%2Fsecret', 'NAME_INVALID'],
    ['/v2/team/app/blobs/sha256:../../../../etc/passwd', 'NAME_INVALID'],
    ['/v2/team/app/blobs/sha256:..', 'DIGEST_INVALID'],
    ['/v2/team/app/referrers/sha256:..%5c..', 'NAME_INVALID'],
    ['/v2/Team/App/tags/list', 'NAME_INVALID'],
    ['/v2/team//app/tags/list', 'NAME_INVALID'],
  ])('rejects traversal attempt %s with %s', async (path, code) => {
    const res = await raw(`GET ${path} HTTP/1.1`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).errors[0].code).toBe(code);
  });

  it('keeps the connection alive across ordinary errors', async () => {
    const missing = testBlob('missing').digest.value;
    const res = await request('HEAD', `/v2/${REPO}/blobs/${missing}`, {
      headers: { connection: 'keep-alive' },
    });
    expect(res.status).toBe(404);
    expect(res.headers['connection']).toBe('keep-alive');
  });

  it('rejects names longer than 255 characters', async () => {
    const name = `${'a'.repeat(200)}/${'b'.repeat(60)}`;
    const res = await raw(`GET /v2/${name}/tags/list HTTP/1.1`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).errors[0].code).toBe('NAME_INVALID');
  });

  it('survives a client that disconnects mid-chunk: nothing visible, session rolled back, retry works', async () => {
    const blob = testBlob(Buffer.alloc(256 * 1024, 9));
    const location = await startSession();
    const id = location.split('/').pop() ?? '';
    const dataFile = join(registry.uploadDir, `${id}.data`);

    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `PATCH ${location} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n` +
        `Content-Range: 0-${blob.bytes.byteLength - 1}\r\nContent-Length: ${blob.bytes.byteLength}\r\n\r\n`,
    );
    socket.write(blob.bytes.subarray(0, 100 * 1024));
    // Wait until the server has started writing the chunk to disk, then vanish.
    await vi.waitFor(async () => expect((await stat(dataFile)).size).toBeGreaterThan(0), {
      timeout: 5000,
      interval: 10,
    });
    socket.destroy();

    // The server notices, rolls the chunk back and frees the session.
    await vi.waitFor(
      async () => {
        const retry = await request('PATCH', location, {
          headers: {
            'content-range': `0-${blob.bytes.byteLength - 1}`,
            'content-type': 'application/octet-stream',
          },
          body: blob.bytes,
        });
        expect(retry.status).toBe(202);
        expect(retry.headers['range']).toBe(`0-${blob.bytes.byteLength - 1}`);
      },
      { timeout: 5000, interval: 20 },
    );
    expect(registry.store.dump()[REPO]).toBeUndefined();
    expect((await stat(dataFile)).size).toBe(blob.bytes.byteLength);

    const close = await request('PUT', `${location}?digest=${blob.digest.value}`);
    expect(close.status).toBe(201);
    const pulled = await request('GET', `/v2/${REPO}/blobs/${blob.digest.value}`);
    expect(pulled.body.equals(blob.bytes)).toBe(true);
    expect((await request('GET', '/v2/')).status).toBe(200);
  });

  it('keeps the bytes of completed chunks when a later chunk is cut off', async () => {
    const first = Buffer.alloc(1000, 1);
    const location = await startSession();
    expect(
      (await request('PATCH', location, { headers: { 'content-range': '0-999' }, body: first })).status,
    ).toBe(202);

    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `PATCH ${location} HTTP/1.1\r\nHost: localhost\r\nContent-Range: 1000-1999\r\nContent-Length: 1000\r\n\r\n`,
    );
    socket.write(Buffer.alloc(10, 2));
    socket.destroy();

    await vi.waitFor(
      async () => {
        const status = await request('GET', location);
        expect(status.status).toBe(204);
        expect(status.headers['range']).toBe('0-999');
        // Not busy any more: the cut-off request has been rolled back.
        const next = await request('PATCH', location, {
          headers: { 'content-range': '1000-1000' },
          body: Buffer.from([2]),
        });
        expect(next.status).toBe(202);
      },
      { timeout: 5000, interval: 20 },
    );
  });

  it('streams a large chunked-encoding upload through to the store', async () => {
    const piece = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < piece.length; i++) piece[i] = (i * 31) & 0xff;
    const pieces = 24;
    const digester = createDigester();
    for (let i = 0; i < pieces; i++) digester.update(piece);
    const digest = digester.digest();
    async function* body(): AsyncIterable<Buffer> {
      for (let i = 0; i < pieces; i++) yield piece;
    }
    const location = await startSession();
    const patch = await request('PATCH', location, {
      headers: { 'content-type': 'application/octet-stream' },
      body: body(),
    });
    expect(patch.status).toBe(202);
    expect(patch.headers['range']).toBe(`0-${pieces * piece.length - 1}`);
    const close = await request('PUT', `${location}?digest=${digest.value}`);
    expect(close.status).toBe(201);
    const head = await request('HEAD', `/v2/${REPO}/blobs/${digest.value}`);
    expect(head.headers['content-length']).toBe(String(pieces * piece.length));
    expect(await readdir(registry.uploadDir)).toEqual([]);
  });

  it('answers an upload declared too large at once, without reading its body', async () => {
    const claimed = testBlob('whatever').digest.value;
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /v2/${REPO}/blobs/uploads/?digest=${claimed} HTTP/1.1\r\nHost: localhost\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Length: ${100 * 1024 * 1024 * 1024}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(1024));
    // The client never sends the rest; the server answers and hangs up on its own.
    await closed;
    const text = Buffer.concat(received).toString();
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text).toContain('"SIZE_INVALID"');
  });
});
