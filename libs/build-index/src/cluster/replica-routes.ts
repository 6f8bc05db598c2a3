/**
 * The /v1/replica/ routes a build-index node serves to its peers: apply a replicated
 * tag write (newest version wins, no content check: the node that accepted the write
 * checked the origins) or deletion (`?deletedAt=&version=`), and list a repository's
 * tag values and tombstones, with their versions, for anti-entropy.
 * Names and digests are validated here exactly as on the client-facing routes.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { MAX_MANIFEST_RECORD_BYTES, repositoryParamsSchema, tagParamsSchema } from '../contracts.js';
import { installErrorHandler } from '@kraken/service-kit';
import { InvalidRequestError } from '@kraken/service-kit';
import { RepositoryNotFoundError } from '../errors.js';
import {
  replicaTagPutSchema,
  replicaTombstoneSchema,
  type ReplicaApplyResult,
  type ReplicaDeleteResult,
  type ReplicaTagList,
} from './replica-protocol.js';
import type { VersionedTagStore } from '../store/versioned-tag-store.js';

export interface ReplicaRoutesOptions {
  readonly store: VersionedTagStore;
}

export function createReplicaRoutes(options: ReplicaRoutesOptions): FastifyPluginAsync {
  const { store } = options;
  return async function replicaRoutes(app: FastifyInstance) {
    installErrorHandler(app);

    app.put(
      '/v1/replica/repositories/:repo/tags/:tag',
      { bodyLimit: MAX_MANIFEST_RECORD_BYTES + 1024 },
      async (request): Promise<ReplicaApplyResult> => {
        const { repo, tag } = tagParamsSchema.parse(request.params);
        const parsed = replicaTagPutSchema.safeParse(request.body);
        if (!parsed.success)
          throw new InvalidRequestError('request body failed validation', { issues: parsed.error.issues });
        const { record, ...value } = parsed.data;
        return store.apply(repo, tag, value, record);
      },
    );

    app.get('/v1/replica/repositories/:repo/tags', async (request): Promise<ReplicaTagList> => {
      const { repo } = repositoryParamsSchema.parse(request.params);
      const listing = await store.list(repo);
      if (listing === undefined) throw new RepositoryNotFoundError(repo);
      return listing;
    });

    app.delete('/v1/replica/repositories/:repo/tags/:tag', async (request): Promise<ReplicaDeleteResult> => {
      const { repo, tag } = tagParamsSchema.parse(request.params);
      const parsed = replicaTombstoneSchema.safeParse(request.query);
      if (!parsed.success)
        throw new InvalidRequestError('deletedAt must be an ISO-8601 time and version a version', {
          issues: parsed.error.issues,
        });
      return store.applyDelete(repo, tag, parsed.data);
    });
  };
}
