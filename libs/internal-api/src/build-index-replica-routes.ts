/**
 * The /v1/replica/ routes a build-index node serves to its peers: apply a replicated
 * tag write (newest wins, no content check: the node that accepted the write checked
 * the origins), delete a tag, and list a repository's tag values for anti-entropy.
 * Names and digests are validated here exactly as on the client-facing routes.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { MAX_MANIFEST_RECORD_BYTES } from './contracts.js';
import { installErrorHandler } from './error-body.js';
import { InvalidRequestError } from './errors.js';
import { RepositoryNotFoundError, TagNotFoundError } from './build-index-errors.js';
import { parseRepositoryName, parseTag } from './build-index-names.js';
import { replicaTagPutSchema, type ReplicaTagList } from './build-index-replica-protocol.js';
import type { ReplicaStore } from './build-index-replica-store.js';

export interface ReplicaRoutesOptions {
  readonly store: ReplicaStore;
  /** Told of each replicated write that changed this node's value. */
  readonly onApplied?: (event: { repo: string; tag: string; digest: string }) => void;
}

const repoParams = z.object({ repo: z.string() });
const tagParams = z.object({ repo: z.string(), tag: z.string() });

export function createReplicaRoutes(options: ReplicaRoutesOptions): FastifyPluginAsync {
  const { store } = options;
  return async function replicaRoutes(app: FastifyInstance) {
    installErrorHandler(app);

    app.put(
      '/v1/replica/repositories/:repo/tags/:tag',
      { bodyLimit: MAX_MANIFEST_RECORD_BYTES + 1024 },
      async (request) => {
        const { repo, tag } = tagOf(request.params);
        const parsed = replicaTagPutSchema.safeParse(request.body);
        if (!parsed.success)
          throw new InvalidRequestError('request body failed validation', { issues: parsed.error.issues });
        const { record, ...value } = parsed.data;
        const result = await store.apply(repo, tag, value, record);
        if (result.applied) options.onApplied?.({ repo, tag, digest: value.digest });
        return result;
      },
    );

    app.get('/v1/replica/repositories/:repo/tags', async (request): Promise<ReplicaTagList> => {
      const repo = parseRepositoryName(repoParams.parse(request.params).repo);
      const tags = await store.list(repo);
      if (tags === undefined) throw new RepositoryNotFoundError(repo);
      return { tags };
    });

    app.delete('/v1/replica/repositories/:repo/tags/:tag', async (request, reply) => {
      const { repo, tag } = tagOf(request.params);
      if (!(await store.delete(repo, tag))) throw new TagNotFoundError(repo, tag);
      return reply.code(204).send();
    });
  };
}

function tagOf(params: unknown): { repo: string; tag: string } {
  const { repo, tag } = tagParams.parse(params);
  return { repo: parseRepositoryName(repo), tag: parseTag(tag) };
}
