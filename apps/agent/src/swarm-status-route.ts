/**
 * `GET /v1/blobs/:digest/status` on the agent: how the blob was (or is being) fetched,
 * and its swarm progress: pieces, peers, bytes from peers and from origins.
 */
import type { FastifyInstance } from 'fastify';
import { parseDigest } from '@kraken/oci-content';
import type { SwarmFetcher } from '@kraken/p2p-core';
import type { ContentCache } from '@kraken/storage-backends';
import { z } from 'zod';

const digestParams = z.object({ digest: z.string() });

export function registerSwarmStatusRoute(
  app: FastifyInstance,
  deps: { fetcher: Pick<SwarmFetcher, 'status'>; cache: Pick<ContentCache, 'stat'> },
): void {
  app.get('/v1/blobs/:digest/status', async (request, reply) => {
    const parsed = digestParams.safeParse(request.params);
    let digest;
    try {
      digest = parseDigest(parsed.success ? parsed.data.digest : '');
    } catch (err) {
      return reply
        .code(400)
        .send({ error: { code: 'KRAKEN_INVALID_DIGEST', message: (err as Error).message } });
    }
    const fetch = deps.fetcher.status(digest.value);
    const cached = (await deps.cache.stat(digest)) !== undefined;
    if (fetch === undefined && !cached) {
      return reply
        .code(404)
        .send({ error: { code: 'KRAKEN_BLOB_UNKNOWN', message: `no fetch of ${digest.value} is known` } });
    }
    const swarm = fetch?.swarm;
    return reply.code(200).send({
      digest: digest.value,
      cached,
      source: fetch === undefined ? 'cache' : fetch.path === 'direct' ? 'origin' : fetch.path,
      state: fetch?.state ?? 'done',
      ...(fetch?.reason === undefined ? {} : { reason: fetch.reason }),
      ...(swarm === undefined
        ? {}
        : {
            swarmState: swarm.state,
            piecesDone: swarm.piecesDone,
            pieceCount: swarm.pieceCount,
            peersConnected: swarm.peersConnected,
            bytesFromPeers: swarm.bytesFromPeers,
            bytesFromOrigins: swarm.bytesFromOrigins,
            bytesUploaded: swarm.bytesUploaded,
          }),
    });
  });
}
