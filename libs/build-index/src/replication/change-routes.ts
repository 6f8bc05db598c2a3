/**
 * The receiving side of cross-cluster replication, and what other clusters ask of
 * this one (change-protocol.ts):
 *
 * - `PUT /v1/replication/changes` applies a tag change from another cluster only
 *   when it is newer than what the node holds. A put is first checked like a tag
 *   write: its manifest closure must be on this cluster's origins (else 409
 *   KRAKEN_TAG_REJECTED, so a tag never appears before its blobs). An applied change
 *   is pushed to the other nodes of this cluster, then queued for this cluster's own
 *   rules (except towards where it came from) before it is answered.
 * - `GET /v1/replication/tags/:repository` lists tags and tombstones with versions,
 *   for the sender's backfill.
 * - `GET /v1/replication/cluster` describes this cluster, for `discover`.
 *
 * Like the rest of the internal API, these must only be reachable by trusted clusters.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { parseDigest, parseRepositoryName, parseTag, repositoryNameParamSchema } from '@kraken/oci-content';
import { installErrorHandler, InvalidRequestError } from '@kraken/service-kit';
import { z } from 'zod';
import { recordOfManifest, type ManifestClosureCheck } from '../api/manifest-closure.js';
import type { BuildIndexCluster } from '../cluster/cluster.js';
import { isDeletedBy, isNewerTag } from '../cluster/replica-protocol.js';
import { MAX_MANIFEST_RECORD_BYTES } from '../contracts.js';
import { RepositoryNotFoundError, TagRejectedError } from '../errors.js';
import type { VersionedTagStore } from '../store/versioned-tag-store.js';
import { compareVersions, versionTime } from '../version/tag-version.js';
import {
  tagChangeSchema,
  type ChangeResult,
  type ClusterDescriptor,
  type TagChange,
  type VersionedTagList,
} from './change-protocol.js';
import type { ReplicationMetrics } from './replication-metrics.js';

export interface ChangeRoutesOptions {
  readonly tags: VersionedTagStore;
  readonly checkClosure: ManifestClosureCheck;
  readonly cluster: Pick<BuildIndexCluster, 'replicateTag' | 'replicateDelete'>;
  /** An applied change, to queue for this cluster's rules. */
  readonly onApplied: (change: TagChange) => void;
  /** This cluster as `GET /v1/replication/cluster` describes it. */
  readonly describe: (request: FastifyRequest) => ClusterDescriptor;
  readonly metrics: ReplicationMetrics;
}

export const replicationTagsParamsSchema = z.object({ repository: repositoryNameParamSchema });

export function createChangeRoutes(options: ChangeRoutesOptions): FastifyPluginAsync {
  const { tags, metrics } = options;

  /** What the node holds for the tag: its value or its tombstone, whichever is newer. */
  const currentOf = async (repo: string, tag: string): Promise<ChangeResult['current']> => {
    const [value, tombstone] = [await tags.get(repo, tag), await tags.getTombstone(repo, tag)];
    if (
      value !== undefined &&
      (tombstone === undefined || compareVersions(value.version, tombstone.version) > 0)
    )
      return { digest: value.digest, version: value.version, deleted: false };
    return tombstone === undefined ? undefined : { version: tombstone.version, deleted: true };
  };

  const applyPut = async (repo: string, tag: string, change: TagChange): Promise<boolean> => {
    const digest = parseDigest(change.digest ?? '');
    const value = { digest: digest.value, updatedAt: versionTime(change.version), version: change.version };
    // Stale changes are answered without touching the origins.
    const [current, tombstone] = [await tags.get(repo, tag), await tags.getTombstone(repo, tag)];
    if (!isNewerTag(value, current) || (tombstone !== undefined && isDeletedBy(value, tombstone))) {
      tags.clock.observe(change.version);
      return false;
    }
    const closure = await options.checkClosure(digest);
    if (closure.root === undefined || closure.missing.length > 0) {
      metrics.changeReceived('put', 'rejected');
      const missing = closure.missing.map((d) => d.value);
      throw new TagRejectedError(
        `replicated tag ${repo}:${tag} refused: missing on the origins: ${missing.join(', ')}`,
        missing,
      );
    }
    const record = recordOfManifest(digest, closure.root);
    const result = await tags.apply(repo, tag, value, record);
    if (!result.applied || result.current === undefined) return false;
    await options.cluster.replicateTag(repo, tag, result.current, record);
    return true;
  };

  const applyDelete = async (repo: string, tag: string, change: TagChange): Promise<boolean> => {
    const tombstone = { deletedAt: versionTime(change.version), version: change.version };
    if (!(await tags.applyDelete(repo, tag, tombstone)).applied) return false;
    await options.cluster.replicateDelete(repo, tag, tombstone);
    return true;
  };

  return async function changeRoutes(app: FastifyInstance) {
    installErrorHandler(app);

    app.put('/v1/replication/changes', { bodyLimit: MAX_MANIFEST_RECORD_BYTES + 4096 }, async (request) => {
      const parsed = tagChangeSchema.safeParse(request.body);
      if (!parsed.success)
        throw new InvalidRequestError('request body failed validation', { issues: parsed.error.issues });
      const change = parsed.data;
      const repo = parseRepositoryName(change.repository);
      const tag = parseTag(change.tag);
      const applied =
        change.kind === 'put' ? await applyPut(repo, tag, change) : await applyDelete(repo, tag, change);
      metrics.changeReceived(change.kind, applied ? 'applied' : 'stale');
      if (applied) options.onApplied({ ...change, repository: repo, tag });
      const current = await currentOf(repo, tag);
      const result: ChangeResult = { applied, ...(current === undefined ? {} : { current }) };
      return result;
    });

    app.get('/v1/replication/tags/:repository', async (request): Promise<VersionedTagList> => {
      const { repository: repo } = replicationTagsParamsSchema.parse(request.params);
      const listing = await tags.list(repo);
      if (listing === undefined) throw new RepositoryNotFoundError(repo);
      return {
        tags: listing.tags.map(({ tag, digest, version }) => ({ tag, digest, version })),
        deleted: listing.deleted.map(({ tag, version }) => ({ tag, version })),
      };
    });

    app.get('/v1/replication/cluster', async (request): Promise<ClusterDescriptor> =>
      options.describe(request),
    );
  };
}
