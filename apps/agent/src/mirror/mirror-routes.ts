/**
 * `GET /v1/mirror/status` on the agent: the mirrored registries with their cached tags,
 * stale answers served and last failure.
 */
import type { FastifyInstance } from 'fastify';
import type { MirrorStatus } from './mirror-status.js';

export function registerMirrorStatusRoute(
  app: FastifyInstance,
  deps: { status: MirrorStatus; tagsCached: (registry: string) => number },
): void {
  app.get('/v1/mirror/status', async (_request, reply) =>
    reply.code(200).send({ upstreams: deps.status.snapshot(deps.tagsCached) }),
  );
}
