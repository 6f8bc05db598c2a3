/**
 * `GET /v1/upstreams/:registry/tags?repository=<repo>&tag=<tag>` on the origin: the
 * digest an upstream tag points at now (see tag-resolver.ts), as UpstreamTag JSON.
 * 404 KRAKEN_UPSTREAM_TAG_NOT_FOUND when the upstream has no such tag,
 * 404 KRAKEN_UPSTREAM_UNKNOWN for an upstream not configured here,
 * 502 KRAKEN_UPSTREAM_UNAVAILABLE when it fails and no recent answer may stand in.
 */
import type { FastifyInstance } from 'fastify';
import { parseRepositoryName, parseTag } from '@kraken/oci-content';
import { InvalidRequestError } from '@kraken/service-kit';
import { z } from 'zod';
import { UpstreamUnknownError } from '../errors.js';
import { upstreamNameSchema } from './upstream-config.js';
import type { UpstreamTag } from './upstream-ref.js';

export interface UpstreamTags {
  resolveTag(registry: string, repository: string, tag: string): Promise<UpstreamTag>;
}

export const upstreamTagParamsSchema = z.object({
  registry: z.string().describe('The upstream registry, e.g. `docker.io`.'),
});
export const upstreamTagQuerySchema = z.object({
  repository: z
    .string({ error: 'query parameter "repository" is required' })
    .describe('The repository in the upstream, e.g. `library/nginx`.'),
  tag: z.string({ error: 'query parameter "tag" is required' }).describe('The tag to resolve.'),
});

export function registerUpstreamTagRoute(app: FastifyInstance, upstreams: UpstreamTags | undefined): void {
  app.get('/v1/upstreams/:registry/tags', { exposeHeadRoute: false }, async (request, reply) => {
    const { registry } = upstreamTagParamsSchema.parse(request.params);
    if (!upstreamNameSchema.safeParse(registry).success)
      throw new InvalidRequestError('the upstream is not a registry host name');
    const parsed = upstreamTagQuerySchema.safeParse(request.query);
    if (!parsed.success) throw new InvalidRequestError(parsed.error.issues[0]?.message ?? 'bad query');
    const repository = parseRepositoryName(parsed.data.repository);
    const tag = parseTag(parsed.data.tag);
    if (upstreams === undefined) throw new UpstreamUnknownError(registry);
    const answer = await upstreams.resolveTag(registry, repository, tag);
    return reply.code(200).header('cache-control', 'no-store').send(answer);
  });
}
