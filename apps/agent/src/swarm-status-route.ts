/**
 * `GET /v1/blobs/:digest/status` on the agent: how the blob was (or is being) fetched,
 * and its swarm progress: pieces, peers, bytes from peers and from origins. Errors are
 * answered with the /v1/ error body, like every internal API.
 */
import type { FastifyInstance } from 'fastify';
import { installErrorHandler } from '@kraken/service-kit';
import { parseDigest } from '@kraken/oci-content';
import type { SwarmFetcher } from '@kraken/p2p-core';
import type { ContentCache } from '@kraken/storage-backends';
import { z } from 'zod';
import { BlobNotCachedError } from './errors.js';

const digestParams = z.object({ digest: z.string() });

export function registerSwarmStatusRoute(
  app: FastifyInstance,
  deps: { fetcher: Pick<SwarmFetcher, 'status'>; cache: Pick<ContentCache, 'stat'> },
): void {
  installErrorHandler(app);
  app.get('/v1/blobs/:digest/status', async (request, reply) => {
    // parseDigest throws InvalidDigestError (400) for anything but a digest.
    const digest = parseDigest(digestParams.parse(request.params).digest);
    const fetch = deps.fetcher.status(digest.value);
    const cached = (await deps.cache.stat(digest)) !== undefined;
    if (fetch === undefined && !cached) throw new BlobNotCachedError(digest.value);
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
