/**
 * Contracts of the build-index's /v1/ API, shared by its routes and its clients.
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
 *          (header x-kraken-replicated-from: the cluster a replicated record came from)
 *   DELETE /v1/repositories/:repo/manifests/:digest                 204 | 404 (also drops tags pointing at it)
 *   GET    /v1/repositories/:repo/referrers/:digest                 {manifests: ManifestRecord[]}
 *
 * Errors from every /v1/ endpoint: {error: {code, message, detail?}}.
 */
import { z } from 'zod';
import {
  MAX_MANIFEST_BYTES,
  digestParamSchema,
  repositoryNameParamSchema,
  tagParamSchema,
} from '@kraken/oci-content';

/** Names the cluster a manifest record PUT was replicated from: it is not sent back there. */
export const REPLICATED_FROM_HEADER = 'x-kraken-replicated-from';

export const repositoryParamsSchema = z.object({ repo: repositoryNameParamSchema });
export const tagParamsSchema = repositoryParamsSchema.extend({ tag: tagParamSchema });
export const manifestParamsSchema = repositoryParamsSchema.extend({ digest: digestParamSchema });

export const tagValueSchema = z.object({ digest: z.string() });
/** The body of a tag PUT: the manifest the tag points at. */
export const tagPutSchema = z.object({ digest: digestParamSchema });
/** A tag's value as GET and PUT answer it. */
export const tagAnswerSchema = z
  .object({
    digest: z.string(),
    updatedAt: z.string().describe('When the write was accepted, by its first node (ISO 8601).'),
    version: z.string().describe('The version of the write; newer versions win.'),
  })
  .strict();
export type TagAnswer = z.output<typeof tagAnswerSchema>;
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
