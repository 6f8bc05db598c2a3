import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, readBoundedBody } from './http-transport.js';

describe('readBoundedBody', () => {
  let server: Server;
  let base: URL;
  const transport = createHttpTransport({ backend: 'test' });

  beforeAll(async () => {
    // /<n> answers n bytes, written in 1 KiB chunks so that a large body streams.
    server = createServer((req, res) => {
      let left = Number(req.url?.slice(1));
      res.writeHead(200, { 'content-length': String(left) });
      const more = () => {
        while (left > 0) {
          const n = Math.min(1024, left);
          left -= n;
          if (!res.write(Buffer.alloc(n, 'x'))) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });

  afterAll(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('returns the whole body when it fits, an empty one included', async () => {
    for (const size of [0, 1, 4096]) {
      const res = await transport.send({ method: 'GET', url: new URL(`/${size}`, base) });
      const bytes = await readBoundedBody(res.body, 4096);
      expect(bytes?.length).toBe(size);
    }
  });

  it('gives undefined past the limit and discards the body without an unhandled error', async () => {
    const res = await transport.send({ method: 'GET', url: new URL(`/${1024 * 1024}`, base) });
    expect(await readBoundedBody(res.body, 4096)).toBeUndefined();
    expect(res.body.destroyed).toBe(true);
    // undici reports the destroy as an error event after a tick; it must find a listener.
    await new Promise((resolve) => setImmediate(resolve));
  });
});
