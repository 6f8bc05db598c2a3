/**
 * The build-index's /v1/ routes (see contracts.ts): tags, manifest membership records,
 * referrers and the repository catalog. Every name, tag and digest is validated before
 * it reaches the store; writes that would point at content missing on the origins are
 * refused with 409 and the list of missing digests.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { parseDigest, type Digest } from '@kraken/oci-content';
import type { Logger, Metrics } from '@kraken/service-kit';
import type { StorageBackend } from '@kraken/storage-backends';
import { z } from 'zod';
import type { OriginClient } from '@kraken/origin';
import {
  MAX_MANIFEST_RECORD_BYTES,
  REPLICATED_FROM_HEADER,
  manifestParamsSchema,
  manifestRecordSchema,
  repositoryParamsSchema,
  tagParamsSchema,
  tagPutSchema,
  type ManifestRecord,
  type TagAnswer,
} from '../contracts.js';
import { installErrorHandler } from '@kraken/service-kit';
import { InvalidRequestError } from '@kraken/service-kit';
import {
  InvalidManifestRecordError,
  ManifestNotFoundError,
  ManifestRejectedError,
  TagNotFoundError,
  TagRejectedError,
  RepositoryNotFoundError,
} from '../errors.js';
import { createManifestClosureCheck, recordOfManifest } from './manifest-closure.js';
import type { BuildIndexPage } from '../store/tag-store.js';
import {
  createVersionedTagStore,
  type VersionedTag,
  type VersionedTagStore,
  type VersionedTombstone,
} from '../store/versioned-tag-store.js';
import { createHybridClock } from '../version/hlc.js';

export interface BuildIndexRoutesOptions {
  readonly backend: StorageBackend;
  /** Where manifests and blobs are checked before a tag or record may point at them. */
  readonly origin: Pick<OriginClient, 'statBlob' | 'getBlob'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Clock for tags' `updatedAt` (and their versions when `tags` is not given). */
  readonly now?: () => Date;
  /**
   * The node's versioned tag store, shared with the cluster (`cluster.tags`) so that
   * local and replicated changes of a tag are serialised together. Default: one of
   * this router's own over `backend`.
   */
  readonly tags?: VersionedTagStore;
  /**
   * Called after a tag write is stored and before it is answered, with the manifest
   * record it implies: the cluster pushes it to the other nodes here.
   */
  readonly onTagPut?: (event: TagWrite) => Promise<unknown>;
  /**
   * Called after a manifest record new to the repository is stored, before it is
   * answered: a referrer (a record with a `subject`) is queued for other clusters here.
   */
  readonly onManifestPut?: (event: ManifestWrite) => Promise<unknown>;
  /** Called after a tag delete is stored (also for tags a manifest delete drops), before it is answered. */
  readonly onTagDelete?: (event: TagDelete) => Promise<unknown>;
  /** Limits of the content check behind writes. */
  readonly closure?: {
    readonly concurrency?: number;
    readonly maxDepth?: number;
    readonly maxManifests?: number;
  };
}

/** A tag write as the node stored it. */
export interface TagWrite {
  readonly repo: string;
  readonly tag: string;
  readonly value: VersionedTag;
  readonly record: ManifestRecord;
}

/** A manifest record the node stored, new to its repository. */
export interface ManifestWrite {
  readonly repo: string;
  readonly record: ManifestRecord;
  /** The cluster it was replicated from (its copier's header); undefined for a local push. */
  readonly from?: string | undefined;
}

/** A tag delete as the node stored it: the tombstone it wrote. */
export interface TagDelete {
  readonly repo: string;
  readonly tag: string;
  readonly tombstone: VersionedTombstone;
}

/** Largest page a client may ask for with `n`. */
export const MAX_PAGE_SIZE = 10_000;

export const pageQuerySchema = z.object({
  n: z.coerce.number().int().min(0).max(MAX_PAGE_SIZE).optional().describe('Most entries to answer with.'),
  last: z.string().max(256).optional().describe('Answer the entries after this one.'),
});

export function createBuildIndexRoutes(options: BuildIndexRoutesOptions): FastifyPluginAsync {
  const now = options.now ?? (() => new Date());
  const tags =
    options.tags ??
    createVersionedTagStore({
      backend: options.backend,
      now,
      clock: createHybridClock({ clusterId: 'default', nodeId: '', wallClock: () => now().getTime() }),
    });
  const store = tags.plain;
  const checkClosure = createManifestClosureCheck({ origin: options.origin, ...options.closure });
  const log = options.logger.child({ component: 'build-index-routes' });
  const tagPuts = options.metrics.counter('tag_puts_total', 'Tags written.');
  const tagGets = options.metrics.counter('tag_gets_total', 'Tag lookups, by result.', ['result'] as const);
  const tagRejections = options.metrics.counter(
    'tag_rejections_total',
    'Tag and manifest-record writes refused because content is missing on the origins.',
    ['kind'] as const,
  );

  return async function buildIndexRoutes(app: FastifyInstance) {
    installErrorHandler(app);

    app.get('/v1/repositories', async (request) => {
      return { repositories: await store.listRepositories(pageOf(request.query)) };
    });

    app.get('/v1/repositories/:repo/tags', async (request) => {
      const { repo } = repositoryParamsSchema.parse(request.params);
      const tags = await store.listTags(repo, pageOf(request.query));
      if (tags === undefined) throw new RepositoryNotFoundError(repo);
      return { tags };
    });

    app.get('/v1/repositories/:repo/tags/:tag', async (request): Promise<TagAnswer> => {
      const { repo, tag } = tagOf(request.params);
      const value = await tags.get(repo, tag);
      tagGets.inc({ result: value === undefined ? 'miss' : 'hit' });
      if (value === undefined) throw new TagNotFoundError(repo, tag);
      return value;
    });

    app.put('/v1/repositories/:repo/tags/:tag', async (request): Promise<TagAnswer> => {
      const { repo, tag } = tagOf(request.params);
      const { digest } = bodyOf(tagPutSchema, request.body);
      const closure = await checkClosure(digest);
      if (closure.root === undefined || closure.missing.length > 0) {
        tagRejections.inc({ kind: 'tag' });
        const missing = closure.missing.map((d) => d.value);
        throw new TagRejectedError(
          `tag ${repo}:${tag} refused: missing on the origins: ${missing.join(', ')}`,
          missing,
        );
      }
      // A tagged manifest is a member of its repository, so GET by digest and the
      // referrers list see it without a separate record write.
      const record = recordOfManifest(digest, closure.root);
      if ((await store.getManifest(repo, digest)) === undefined) await store.putManifest(repo, record);
      const value = await tags.putLocal(repo, tag, digest);
      await options.onTagPut?.({ repo, tag, value, record });
      tagPuts.inc();
      log.info({ repo, tag, digest: digest.value }, 'tag updated');
      return value;
    });

    app.delete('/v1/repositories/:repo/tags/:tag', async (request, reply) => {
      const { repo, tag } = tagOf(request.params);
      const tombstone = await tags.deleteLocal(repo, tag);
      if (tombstone === undefined) throw new TagNotFoundError(repo, tag);
      await options.onTagDelete?.({ repo, tag, tombstone });
      log.info({ repo, tag }, 'tag deleted');
      return reply.code(204).send();
    });

    app.get('/v1/repositories/:repo/manifests/:digest', async (request) => {
      const { repo, digest } = digestOf(request.params);
      const record = await store.getManifest(repo, digest);
      if (record === undefined) throw new ManifestNotFoundError(repo, digest.value);
      return record;
    });

    app.put(
      '/v1/repositories/:repo/manifests/:digest',
      { bodyLimit: MAX_MANIFEST_RECORD_BYTES },
      async (request) => {
        const { repo, digest } = digestOf(request.params);
        const record = bodyOf(manifestRecordSchema, request.body);
        if (record.digest !== digest.value) {
          throw new InvalidManifestRecordError(
            `record digest ${record.digest} does not match ${digest.value}`,
          );
        }
        if (record.subject !== undefined) parseDigest(record.subject);
        const closure = await checkClosure(digest, { contentType: record.mediaType });
        if (closure.root === undefined || closure.missing.length > 0) {
          tagRejections.inc({ kind: 'manifest' });
          const missing = closure.missing.map((d) => d.value);
          throw new ManifestRejectedError(
            `manifest ${repo}@${digest.value} refused: missing on the origins: ${missing.join(', ')}`,
            missing,
          );
        }
        checkRecordAgainstManifest(record, recordOfManifest(digest, closure.root));
        const known = (await store.getManifest(repo, digest)) !== undefined;
        await store.putManifest(repo, record);
        if (!known) await options.onManifestPut?.({ repo, record, from: replicatedFrom(request.headers) });
        return record;
      },
    );

    app.delete('/v1/repositories/:repo/manifests/:digest', async (request, reply) => {
      const { repo, digest } = digestOf(request.params);
      const tombstones = new Map<string, VersionedTombstone>();
      const { existed, droppedTags } = await store.deleteManifest(repo, digest, async (tag) => {
        const tombstone = await tags.deleteLocal(repo, tag, { ifDigest: digest.value });
        if (tombstone !== undefined) tombstones.set(tag, tombstone);
        return tombstone !== undefined;
      });
      if (!existed) throw new ManifestNotFoundError(repo, digest.value);
      for (const tag of droppedTags) {
        const tombstone = tombstones.get(tag);
        if (tombstone !== undefined) await options.onTagDelete?.({ repo, tag, tombstone });
      }
      log.info({ repo, digest: digest.value, droppedTags }, 'manifest deleted');
      return reply.code(204).send();
    });

    app.get('/v1/repositories/:repo/referrers/:digest', async (request) => {
      const { repo, digest } = digestOf(request.params);
      return { manifests: await store.listReferrers(repo, digest) };
    });
  };
}

/** The fields a record shares with its manifest must agree, or referrers could lie. */
function checkRecordAgainstManifest(record: ManifestRecord, actual: ManifestRecord): void {
  for (const field of ['mediaType', 'size', 'subject'] as const) {
    if (record[field] !== actual[field]) {
      throw new InvalidManifestRecordError(
        `record ${field} ${String(record[field])} does not match the manifest's ${String(actual[field])}`,
        { field },
      );
    }
  }
}

function replicatedFrom(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers[REPLICATED_FROM_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function tagOf(params: unknown): { repo: string; tag: string } {
  return tagParamsSchema.parse(params);
}

function digestOf(params: unknown): { repo: string; digest: Digest } {
  return manifestParamsSchema.parse(params);
}

function pageOf(query: unknown): BuildIndexPage {
  const parsed = pageQuerySchema.safeParse(query ?? {});
  if (!parsed.success)
    throw new InvalidRequestError('invalid pagination: n must be an integer 0..10000', {
      issues: parsed.error.issues,
    });
  const { n, last } = parsed.data;
  return { ...(n !== undefined ? { n } : {}), ...(last !== undefined ? { last } : {}) };
}

function bodyOf<T>(schema: z.ZodType<T, unknown>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new InvalidRequestError('request body failed validation', { issues: parsed.error.issues });
  return parsed.data;
}
