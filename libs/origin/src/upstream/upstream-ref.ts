/**
 * Where upstream content is named on the origin's API. Blob reads carry the upstream
 * as query parameters, because registries address content by repository and the
 * origin's blob API is content-addressed:
 *   HEAD|GET /v1/blobs/:digest?upstream=<registry>&repository=<repo>[&kind=manifest]
 *   GET      /v1/upstreams/:registry/tags?repository=<repo>&tag=<tag>  → UpstreamTag
 * A HEAD with an upstream starts the origin's fill from the upstream (when the blob is
 * not local yet), so the metainfo and seeding that follow find it filling.
 */
import { z } from 'zod';
import { parseRepositoryName } from '@kraken/oci-content';
import { InvalidRequestError } from '@kraken/service-kit';
import { upstreamNameSchema } from './upstream-config.js';

export type UpstreamKind = 'blob' | 'manifest';

export interface UpstreamRef {
  /** The upstream's registry host, e.g. `docker.io`. */
  readonly registry: string;
  /** The repository in that registry, e.g. `library/nginx`. */
  readonly repository: string;
  /** Manifests are read from the registry's manifests endpoint, blobs from its blobs endpoint. */
  readonly kind: UpstreamKind;
}

export const upstreamTagSchema = z
  .object({
    digest: z.string(),
    /** The upstream failed and this is the last answer it gave. */
    stale: z.boolean(),
    /** Seconds since the upstream gave this answer. */
    ageSeconds: z.number().nonnegative(),
  })
  .strict();

export type UpstreamTag = z.output<typeof upstreamTagSchema>;

/** The query string of a blob read from `ref` (with the leading '?'). */
export function upstreamQuery(ref: UpstreamRef): string {
  const query = new URLSearchParams({ upstream: ref.registry, repository: ref.repository });
  if (ref.kind === 'manifest') query.set('kind', 'manifest');
  return `?${query.toString()}`;
}

const once = (name: string) => ({ error: `query parameter "${name}" must appear once` });

/** The query of a blob read that names an upstream (all absent: a read of the origin's own blobs). */
export const upstreamReadQuerySchema = z.object({
  upstream: z
    .string(once('upstream'))
    .optional()
    .describe('An upstream registry this origin pulls through, e.g. `docker.io`, to read the blob from.'),
  repository: z
    .string(once('repository'))
    .optional()
    .describe('The repository in that registry; required with `upstream`.'),
  kind: z
    .enum(['blob', 'manifest'], { error: 'query parameter "kind" must be "blob" or "manifest"' })
    .optional()
    .describe('Which endpoint of the upstream serves it (default `blob`).'),
});

/** The upstream a request's query names, validated; undefined when it names none. */
export function upstreamRefOf(query: unknown): UpstreamRef | undefined {
  const parsed = upstreamReadQuerySchema.safeParse(query ?? {});
  if (!parsed.success) throw new InvalidRequestError(parsed.error.issues[0]?.message ?? 'bad query');
  const { upstream: registry, repository, kind = 'blob' } = parsed.data;
  if (registry === undefined) return undefined;
  if (!upstreamNameSchema.safeParse(registry).success)
    throw new InvalidRequestError(`query parameter "upstream" is not a registry host name`);
  if (repository === undefined) throw new InvalidRequestError('query parameter "repository" is required');
  return { registry, repository: parseRepositoryName(repository), kind };
}
