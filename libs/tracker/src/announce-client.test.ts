import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { KrakenError } from '@kraken/foundation';
import { createMetrics } from '@kraken/service-kit';
import {
  ANNOUNCE_BINARY_TYPE,
  createAnnounceClient,
  encodeAnnounceHeader,
  encodeAnnouncedPeer,
  encodePeerCount,
  type AnnounceClient,
} from '@kraken/p2p-core';
import type { Metainfo } from '@kraken/p2p-core';
import { createPeerPolicy } from './peer-policy.js';
import { createPeerStore } from './peer-store.js';
import { createTrackerRoutes } from './routes.js';
import type { MetainfoSource } from './metainfo-cache.js';

const blob = `sha256:${'a'.repeat(64)}`;
const metainfo: Metainfo = { digest: blob, size: 0, pieceLength: 256 * 1024, pieceHashes: [] };

const servers: FastifyInstance[] = [];
const clients: AnnounceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function tracker(
  source: MetainfoSource = { getMetainfo: async (d) => (d.value === blob ? metainfo : undefined) },
) {
  const server = Fastify();
  server.register(
    createTrackerRoutes({
      store: createPeerStore({ ttlMs: 30_000 }),
      policy: createPeerPolicy(),
      metainfo: source,
      metrics: createMetrics('tracker', { defaultMetrics: false }),
      peersPerAnnounce: 50,
      announceIntervalSeconds: 3,
    }),
  );
  servers.push(server);
  return client(await server.listen({ host: '127.0.0.1', port: 0 }));
}

function client(url: string): AnnounceClient {
  const c = createAnnounceClient({ url, timeoutMs: 5_000 });
  clients.push(c);
  return c;
}

const announceOf = (peerId: string, host = '10.0.0.1') => ({
  peerId,
  address: { host, port: 16001 },
  blob,
  complete: false,
});

/** A batch announce of peer a…a with these entries. */
const batchOf = (blobs: { blob: string; complete: boolean }[]) => ({
  peerId: 'a'.repeat(40),
  address: { host: '10.0.0.1', port: 1 },
  blobs,
});

describe('announce client', () => {
  it('announces and reads the peers back', async () => {
    const c = await tracker();
    expect(await c.announce(announceOf('a'.repeat(40), 'fd00::1'))).toEqual({
      peers: [],
      intervalSeconds: 3,
    });
    const answer = await c.announce(announceOf('b'.repeat(40)));
    expect(answer.peers).toEqual([
      { peerId: 'a'.repeat(40), host: 'fd00::1', port: 16001, complete: false, origin: false },
    ]);
  });

  it('fetches metainfo, undefined when no origin holds the blob', async () => {
    const c = await tracker();
    expect(await c.getMetainfo(blob)).toEqual(metainfo);
    expect(await c.getMetainfo(`sha256:${'b'.repeat(64)}`)).toBeUndefined();
  });

  it('refuses a bad announce before sending it', async () => {
    const c = client('http://127.0.0.1:9');
    await expect(c.announce({ ...announceOf('nope') })).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_REQUEST',
      message: expect.stringMatching(/peerId/),
    });
    await expect(c.getMetainfo('sha256:zz')).rejects.toMatchObject({ code: 'KRAKEN_INVALID_DIGEST' });
  });

  it('turns an error answer back into a typed error', async () => {
    const c = await tracker({
      getMetainfo: async () => {
        throw new KrakenError('KRAKEN_SERVICE_UNREACHABLE', 'origin down', { statusCode: 503 });
      },
    });
    await expect(c.getMetainfo(blob)).rejects.toMatchObject({
      name: 'RemoteApiError',
      code: 'KRAKEN_SERVICE_UNREACHABLE',
      statusCode: 503,
      message: 'origin down',
    });
  });

  it('reports an unreachable tracker', async () => {
    const server = Fastify();
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    await server.close();
    await expect(client(url).announce(announceOf('a'.repeat(40)))).rejects.toMatchObject({
      name: 'ServiceUnreachableError',
      code: 'KRAKEN_SERVICE_UNREACHABLE',
    });
  });

  it('asks for the binary answer, and reads JSON from a tracker that ignores the ask', async () => {
    const peer = { peerId: 'c'.repeat(40), host: '10.0.0.3', port: 16001, complete: true, origin: false };
    const accepts: (string | undefined)[] = [];
    const server = Fastify();
    server.post('/v1/announce', async (request, reply) => {
      accepts.push(request.headers.accept);
      return accepts.length === 1
        ? reply
            .type(ANNOUNCE_BINARY_TYPE)
            .send(Buffer.concat([encodeAnnounceHeader(2), encodePeerCount(1), encodeAnnouncedPeer(peer)]))
        : { peers: [peer], intervalSeconds: 2 };
    });
    servers.push(server);
    const c = client(await server.listen({ host: '127.0.0.1', port: 0 }));
    expect(await c.announce(announceOf('a'.repeat(40)))).toEqual({ peers: [peer], intervalSeconds: 2 });
    expect(await c.announce(announceOf('a'.repeat(40)))).toEqual({ peers: [peer], intervalSeconds: 2 });
    expect(accepts[0]).toContain(ANNOUNCE_BINARY_TYPE);
  });

  it('refuses a binary answer that breaks the layout', async () => {
    const server = Fastify();
    // One peer announced, none sent.
    server.post('/v1/announce', async (_request, reply) =>
      reply.type(ANNOUNCE_BINARY_TYPE).send(Buffer.concat([encodeAnnounceHeader(3), encodePeerCount(1)])),
    );
    servers.push(server);
    const c = client(await server.listen({ host: '127.0.0.1', port: 0 }));
    await expect(c.announce(announceOf('a'.repeat(40)))).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_RESPONSE',
      statusCode: 502,
      message: expect.stringMatching(/peer 0 is cut short/),
    });
  });

  it('refuses an answer that breaks the contract', async () => {
    const server = Fastify();
    server.post('/v1/announce', async () => ({ peers: [{ peerId: 'x' }], intervalSeconds: 3 }));
    server.get('/v1/blobs/:digest/metainfo', async () => ({
      ...metainfo,
      digest: `sha256:${'b'.repeat(64)}`,
    }));
    servers.push(server);
    const c = client(await server.listen({ host: '127.0.0.1', port: 0 }));
    await expect(c.announce(announceOf('a'.repeat(40)))).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_RESPONSE',
      statusCode: 502,
    });
    await expect(c.getMetainfo(blob)).rejects.toMatchObject({ code: 'KRAKEN_INVALID_RESPONSE' });
  });

  it('announces a batch and reads the answers in binary, or in JSON from a tracker that ignores the ask', async () => {
    const c = await tracker();
    const other = `sha256:${'b'.repeat(64)}`;
    await c.announce(announceOf('a'.repeat(40)));
    const batch = {
      peerId: 'b'.repeat(40),
      address: { host: '10.0.0.2', port: 16001 },
      blobs: [
        { blob, complete: false },
        { blob: other, complete: true, want: 0 },
      ],
    };
    const answer = await c.announceBatch(batch);
    expect(answer).toEqual({
      answers: [
        {
          peers: [{ peerId: 'a'.repeat(40), host: '10.0.0.1', port: 16001, complete: false, origin: false }],
        },
        { peers: [] },
      ],
      intervalSeconds: 3,
    });
    const server = Fastify();
    server.post('/v1/announce/batch', async () => answer);
    servers.push(server);
    const json = client(await server.listen({ host: '127.0.0.1', port: 0 }));
    expect(await json.announceBatch(batch)).toEqual(answer);
  });

  it('refuses a bad batch before sending it, and a batch answer of the wrong length', async () => {
    const c = await tracker();
    await expect(c.announceBatch(batchOf([]))).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_REQUEST',
      message: expect.stringMatching(/invalid batch announce: blobs/),
    });
    const server = Fastify();
    server.post('/v1/announce/batch', async () => ({ answers: [], intervalSeconds: 3 }));
    servers.push(server);
    const short = client(await server.listen({ host: '127.0.0.1', port: 0 }));
    await expect(short.announceBatch(batchOf([{ blob, complete: false }]))).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_RESPONSE',
      message: expect.stringMatching(/0 answers for 1 blobs/),
    });
  });

  it('reports a tracker without the batch route as a 404', async () => {
    const server = Fastify();
    server.post('/v1/announce', async () => ({ peers: [], intervalSeconds: 3 }));
    servers.push(server);
    const c = client(await server.listen({ host: '127.0.0.1', port: 0 }));
    await expect(c.announceBatch(batchOf([{ blob, complete: false }]))).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
