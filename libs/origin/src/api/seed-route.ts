/**
 * `POST /v1/blobs/:digest/seed` on the origin: the tracker asks the origin to join a
 * blob's swarm (origins seed on demand, see p2p-core's swarm-seeder). The answer is the
 * address peers dial; 404 when the origin does not hold the blob.
 */
import type { FastifyInstance } from 'fastify';
import type { Digest } from '@kraken/oci-content';
import type { SeedAnswer } from '../client/client-types.js';
import { BlobNotFoundError } from '../errors.js';
import { blobParamsSchema } from './contracts.js';

/** The origin's side of seeding: joins the swarm, or says the blob is not held. */
export interface OriginSeeding {
  seed(digest: Digest): Promise<SeedAnswer | undefined>;
}

export function registerOriginSeedRoute(app: FastifyInstance, seeding: OriginSeeding): void {
  app.post('/v1/blobs/:digest/seed', async (request, reply) => {
    const { digest } = blobParamsSchema.parse(request.params);
    const answer = await seeding.seed(digest);
    if (answer === undefined) throw new BlobNotFoundError(digest.value);
    return reply.code(200).send(answer);
  });
}
