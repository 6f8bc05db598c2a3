import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createReusedReads } from './reused-reads.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function listen(server: net.Server): Promise<number> {
  closers.push(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return address.port;
}

describe('createReusedReads', () => {
  it('reads a dialed socket into one buffer, holding what comes before anyone listens', async () => {
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const port = await listen(net.createServer((socket) => socket.end(payload)));
    const reads = createReusedReads(64 * 1024);
    const { socket, chunks } = reads.dial({ host: '127.0.0.1', port });
    closers.push(() => socket.destroy());
    // Nobody listens yet: the first chunk is kept (copied) and reading stops.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(socket.bytesRead).toBeLessThan(payload.length);
    const received: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    chunks.listen((chunk) => {
      buffers.add(chunk.buffer);
      // Only valid during the call: the listener copies what it keeps.
      received.push(Buffer.from(chunk));
    });
    await once(socket, 'end');
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    // Everything after the early copy came through the one shared buffer.
    expect(buffers.size).toBe(2);
  });

  it('takes over an accepted connection before it read anything', async () => {
    const reads = createReusedReads(64 * 1024);
    const adopted: net.Socket[] = [];
    const received: Buffer[] = [];
    let remote: string | undefined;
    const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
      const taken = reads.adopt(accepted);
      if (taken === undefined) throw new Error('not adopted');
      adopted.push(taken.socket);
      remote = taken.socket.remoteAddress;
      taken.socket.on('error', () => {});
      expect(accepted.destroyed).toBe(true);
      taken.chunks.listen((chunk) => received.push(Buffer.from(chunk)));
      taken.socket.on('end', () => taken.socket.end('bye'));
    });
    const port = await listen(server);
    const client = net.connect({ host: '127.0.0.1', port });
    closers.push(() => client.destroy());
    client.on('error', () => {});
    client.end(Buffer.alloc(200_000, 3));
    const answer: Buffer[] = [];
    client.on('data', (chunk: Buffer) => answer.push(chunk));
    await once(client, 'end');
    expect(Buffer.concat(received).equals(Buffer.alloc(200_000, 3))).toBe(true);
    expect(Buffer.concat(answer).toString()).toBe('bye');
    expect(remote).toBe('127.0.0.1');
    // The server does not count the discarded socket as open: it closes.
    adopted[0]?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('leaves a socket it cannot take over to be read the usual way', () => {
    const reads = createReusedReads(1024);
    const unconnected = new net.Socket();
    unconnected.pause();
    expect(reads.adopt(unconnected)).toBeUndefined();
    expect(unconnected.isPaused()).toBe(false);
    unconnected.destroy();
  });
});
