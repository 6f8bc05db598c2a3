/**
 * `GET /v1/blobs/:digest/metainfo` on the origin: the blob's metainfo as canonical
 * JSON (see metainfo/origin-metainfo.ts), with its metainfo id as ETag.
 */
import type { FastifyInstance } from 'fastify';
import { BlobNotFoundError } from '../errors.js';
import { blobParamsSchema } from './contracts.js';
import type { OriginMetainfo } from '../metainfo/origin-metainfo.js';

export function registerOriginMetainfoRoute(app: FastifyInstance, metainfo: OriginMetainfo): void {
  app.get('/v1/blobs/:digest/metainfo', { exposeHeadRoute: false }, async (request, reply) => {
    const { digest } = blobParamsSchema.parse(request.params);
    const entry = await metainfo.get(digest);
    if (entry === undefined) throw new BlobNotFoundError(digest.value);
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .header('etag', `"${entry.id}"`)
      .send(entry.json);
  });
}
