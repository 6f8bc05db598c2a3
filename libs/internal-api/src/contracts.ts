/**
 * Contracts of the internal /v1/ APIs, shared by servers and clients.
 *
 * Origin (content-addressed blobs):
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
 * Build-index (repositories, tags, manifest membership, referrers); :repo is one
 * URL-encoded path segment (names contain '/'):
 *   GET    /v1/repositories?n&last                                  {repositories: string[]}
 *   GET    /v1/repositories/:repo/tags?n&last                       {tags: string[]} | 404
 *   GET    /v1/repositories/:repo/tags/:tag                         {digest} | 404
 *   PUT    /v1/repositories/:repo/tags/:tag   {digest}              200 | 409 when manifest/blobs missing on origins
 *   DELETE /v1/repositories/:repo/tags/:tag                         204 | 404
 *   GET    /v1/repositories/:repo/manifests/:digest                 ManifestRecord | 404
 *   PUT    /v1/repositories/:repo/manifests/:digest  ManifestRecord 200 | 409 when missing on origins
 *   DELETE /v1/repositories/:repo/manifests/:digest                 204 | 404 (also drops tags pointing at it)
 *   GET    /v1/repositories/:repo/referrers/:digest                 {manifests: ManifestRecord[]}
 *
 * Errors from every /v1/ endpoint: {error: {code, message, detail?}}.
 */
import { z } from 'zod';
import { MAX_MANIFEST_BYTES } from '@kraken/oci-content';

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), detail: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

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

export const tagValueSchema = z.object({ digest: z.string() });
export const tagListSchema = z.object({ tags: z.array(z.string()) });
export const repositoryListSchema = z.object({ repositories: z.array(z.string()) });

/** What the build-index knows of a manifest that belongs to a repository. */
export const manifestRecordSchema = z.object({
  digest: z.string(),
  mediaType: z.string(),
  size: z.number().int().nonnegative(),
  artifactType: z.string().optional(),
  subject: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ManifestRecord = z.infer<typeof manifestRecordSchema>;
export const referrerListSchema = z.object({ manifests: z.array(manifestRecordSchema) });

/**
 * Largest serialised ManifestRecord: records are tiny but for annotations, which may
 * fill most of a 4 MiB manifest, and JSON escaping can double that.
 */
export const MAX_MANIFEST_RECORD_BYTES = 2 * MAX_MANIFEST_BYTES + 64 * 1024;
