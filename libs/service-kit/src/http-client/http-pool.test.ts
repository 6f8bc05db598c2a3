import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '@kraken/foundation/testing';
import { createHttpPool, type HttpPool } from './http-pool.js';
import { HttpTimeoutError } from '../api/api-errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real server on loopback; counts the connections it accepted. */
async function serve(handler: Handler): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer(handler);
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, connections: () => connections };
}

function pool(url: string, options: Partial<Parameters<typeof createHttpPool>[1]> = {}, clock?: object) {
  const created: HttpPool = createHttpPool(
    url,
    { headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000, ...options },
    clock === undefined ? {} : { timers: clock as never },
  );
  cleanups.push(() => created.destroy());
  return created;
}

async function sha256(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source) hash.update(chunk);
  return hash.digest('hex');
}

describe('createHttpPool', () => {
  it('keeps the connection alive across requests and reads JSON, text and status', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/json') res.setHeader('content-type', 'application/json').end('{"ok":true}');
      else res.writeHead(404).end('missing');
    });
    const client = pool(server.url);
    const first = await client.request({ method: 'GET', path: '/json' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect(await first.body.json()).toEqual({ ok: true });
    const second = await client.request({ method: 'GET', path: '/other' });
    expect(second.statusCode).toBe(404);
    expect(await second.body.text()).toBe('missing');
    const head = await client.request({ method: 'HEAD', path: '/json' });
    await head.body.dump();
    expect(server.connections()).toBe(1);
  });

  it('streams a request body and a response body of several MiB, unchanged', async () => {
    const payload = randomBytes(6 * 1024 * 1024);
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
    });
    const client = pool(server.url);
    const response = await client.request({
      method: 'PUT',
      path: '/echo',
      headers: { 'content-length': String(payload.length) },
      body: Readable.from([payload.subarray(0, 1_000_000), payload.subarray(1_000_000)]),
    });
    expect(await sha256(response.body)).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('fails the request with the error of a request body that fails', async () => {
    const server = await serve((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    });
    const client = pool(server.url);
    const source = new Readable({ read() {} });
    source.push(Buffer.from('some bytes'));
    setImmediate(() => source.destroy(new Error('the disk went away')));
    await expect(client.request({ method: 'PUT', path: '/up', body: source })).rejects.toThrow(
      'the disk went away',
    );
  });

  it('times out an answer that does not start, and says which request it was', async () => {
    const clock = createManualClock();
    const server = await serve(() => {
      // Never answers.
    });
    const client = pool(server.url, { headersTimeoutMs: 1_000 }, clock);
    const pending = client.request({ method: 'GET', path: '/slow' });
    const failed = expect(pending).rejects.toSatisfy(
      (err: unknown) =>
        err instanceof HttpTimeoutError &&
        err.code === 'KRAKEN_HTTP_TIMEOUT' &&
        err.phase === 'headers' &&
        err.message === `GET ${server.url}/slow: no answer within 1000 ms`,
    );
    // The request reached the server; nothing has timed out before the limit.
    await vi.waitFor(() => expect(server.connections()).toBe(1));
    await clock.advance(999);
    await clock.advance(1);
    await failed;
  });

  it('times out a body that stalls while it is read', async () => {
    const clock = createManualClock();
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('first part');
    });
    const client = pool(server.url, { bodyTimeoutMs: 2_000 }, clock);
    const response = await client.request({ method: 'GET', path: '/stall' });
    const reading = response.body.text();
    const failed = expect(reading).rejects.toSatisfy(
      (err: unknown) => err instanceof HttpTimeoutError && err.phase === 'body',
    );
    await clock.advance(1_999);
    await clock.advance(1);
    await failed;
  });

  it('does not count the time a slow reader takes against the body timeout', async () => {
    const clock = createManualClock();
    const payload = randomBytes(1024 * 1024);
    const server = await serve((_req, res) => res.end(payload));
    const client = pool(server.url, { bodyTimeoutMs: 1_000 }, clock);
    const response = await client.request({ method: 'GET', path: '/big' });
    const iterator = response.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    // The server has sent everything; the reader pauses far longer than the timeout.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clock.advance(10_000);
    const hash = createHash('sha256').update(first.value as Buffer);
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      hash.update(next.value as Buffer);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('fails the body when the connection closes before its end', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only some', () => req.socket.destroy());
    });
    const client = pool(server.url);
    const response = await client.request({ method: 'GET', path: '/cut' });
    await expect(response.body.text()).rejects.toThrow();
  });

  it('aborts with the signal before the answer and while the body is read', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/never') return;
      res.writeHead(200, { 'content-length': '100' });
      res.write('part');
    });
    const client = pool(server.url);
    const before = new AbortController();
    const pending = client.request({ method: 'GET', path: '/never', signal: before.signal });
    await vi.waitFor(() => expect(server.connections()).toBe(1));
    before.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow();

    const during = new AbortController();
    const response = await client.request({ method: 'GET', path: '/part', signal: during.signal });
    const reading = response.body.text();
    during.abort(new Error('caller gave up'));
    await expect(reading).rejects.toThrow();
  });

  it('fails fast when nothing listens, and refuses requests once closed', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    const unreachable = pool('http://127.0.0.1:1');
    await expect(unreachable.request({ method: 'GET', path: '/' })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });

    const client = pool(server.url);
    const response = await client.request({ method: 'GET', path: '/' });
    let closed = false;
    const closing = client.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // close() waits for the body under way.
    expect(closed).toBe(false);
    expect(client.closed).toBe(true);
    expect(await response.body.text()).toBe('ok');
    await closing;
    await expect(client.request({ method: 'GET', path: '/' })).rejects.toThrow('the client is closed');
  });

  it('refuses a URL that is not http or https', () => {
    expect(() => createHttpPool('ftp://example.com', { headersTimeoutMs: 1, bodyTimeoutMs: 1 })).toThrow(
      'only http:// and https:// are supported',
    );
  });
});
