/**
 * Contracts of the origin's /v1/ API (content-addressed blobs), shared by its routes
 * and its clients:
 *   HEAD   /v1/blobs/:digest                 200 + Content-Length | 404
 *   GET    /v1/blobs/:digest  [Range]         200/206 stream | 404 | 416
 *   PUT    /v1/blobs/:digest  (stream body)   201 (verified against :digest) | 400 digest mismatch
 *   DELETE /v1/blobs/:digest                  202 | 404
 *   POST   /v1/uploads                        201 {uploadId}
 *   PATCH  /v1/uploads/:id  Content-Range or Upload-Offset  202 {uploadId, offset}  (in order; 416 otherwise)
 *   GET    /v1/uploads/:id                    200 {uploadId, offset}
 *   PUT    /v1/uploads/:id?digest=  [body]    201 (commit, verified; an optional body is the last chunk)
 *   DELETE /v1/uploads/:id                    204
 *
 * Errors: the /v1/ error body of @kraken/service-kit.
 */
import { z } from 'zod';
import { digestParamSchema, repositoryNameParamSchema } from '@kraken/oci-content';

/** Upload ids are UUIDs, and become file names: checked before anything else. */
export const UPLOAD_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const blobParamsSchema = z.object({ digest: digestParamSchema });
export const uploadParamsSchema = z.object({
  id: z.string().meta({ pattern: UPLOAD_ID_PATTERN.source, description: 'The upload session (a UUID).' }),
});
/** Writes may name the repository the blob was pushed to, for backend routing. */
export const blobWriteQuerySchema = z.object({
  namespace: repositoryNameParamSchema
    .optional()
    .describe('The repository the blob was pushed to; the origin routes its write-back by it.'),
});
export const uploadCommitQuerySchema = blobWriteQuerySchema.extend({
  digest: digestParamSchema.describe('The digest the finished upload must have.'),
});

export const uploadCreatedSchema = z.object({ uploadId: z.string() });

/** `POST /v1/blobs/:digest/seed` on an origin: where peers reach the origin seeding it. */
export const seedAnswerSchema = z
  .object({
    peerId: z.string().regex(/^[0-9a-f]{40}$/),
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535),
  })
  .strict();
export const uploadStatusSchema = z.object({ uploadId: z.string(), offset: z.number().int().nonnegative() });
