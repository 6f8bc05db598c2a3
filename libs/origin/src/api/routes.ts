/**
 * The origin's /v1/ blob API (see contracts.ts) as a fastify plugin: stat, ranged
 * reads, streamed verified writes, deletes and chunked upload sessions. Digests and
 * upload ids are validated before they reach a path; bodies are streamed straight
 * into the content store, which publishes a blob only once its digest checked out.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ContentTooLargeError, type Digest } from '@kraken/oci-content';
import { KrakenError } from '@kraken/foundation';
import type { Logger, Metrics } from '@kraken/service-kit';
import { InvalidRangeError, ObjectNotFoundError, type ContentStore } from '@kraken/storage-backends';
import type { Readable } from 'node:stream';
import {
  blobParamsSchema,
  blobWriteQuerySchema,
  uploadCommitQuerySchema,
  uploadCreatedSchema,
  uploadParamsSchema,
  uploadStatusSchema,
} from './contracts.js';
import { installErrorHandler } from '@kraken/service-kit';
import { BlobNotFoundError, RangeNotSatisfiableError, UploadNotFoundError } from '../errors.js';
import { InvalidRequestError, RequestAbortedError } from '@kraken/service-kit';
import { originLimitsSchema, type OriginLimits } from './limits.js';
import { createOriginMetainfo, type OriginMetainfo } from '../metainfo/origin-metainfo.js';
import { registerOriginMetainfoRoute } from './metainfo-route.js';
import { registerOriginSeedRoute, type OriginSeeding } from './seed-route.js';
import { parseContentRange, parseRangeHeader } from './range.js';
import { REPLICA_HEADER } from './replica-header.js';
import { createUploadSessions, type OriginBlobWriter } from './upload-sessions.js';
import { upstreamRefOf, type UpstreamRef } from '../upstream/upstream-ref.js';
import { registerUpstreamTagRoute, type UpstreamTags } from '../upstream/upstream-routes.js';
import { UpstreamUnknownError } from '../errors.js';

export interface OriginRoutesOptions {
  /** Writes may carry the blob's namespace (`?namespace=<repository>`), for backend routing. */
  readonly store: Omit<ContentStore, 'write'> & OriginBlobWriter;
  /** Directory for chunked upload sessions; should share a filesystem with the store. */
  readonly uploadsDir: string;
  readonly limits?: OriginLimits;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Milliseconds since the epoch, for upload expiry. */
  readonly now?: () => number;
  /** Metainfo generation and cache; by default one over `store` with default bounds. */
  readonly metainfo?: OriginMetainfo;
  /** P2P seeding on request (`POST /v1/blobs/:digest/seed`); absent, the route is not served. */
  readonly seeding?: OriginSeeding;
  /**
   * Runs once a blob is stored (PUT or upload commit), before the answer: the origin
   * copies it to the blob's other owners there. A rejection fails the request; the
   * blob stays stored here.
   */
  readonly onStored?: (event: StoredBlobEvent) => Promise<void>;
  /**
   * Upstream registries pulled through (`?upstream=` on blob reads, and the tag route);
   * absent, a request naming an upstream answers 404 KRAKEN_UPSTREAM_UNKNOWN.
   */
  readonly upstreams?: UpstreamReads;
}

export interface UpstreamReads extends UpstreamTags {
  /** Reads of `ref`'s content through the origin's cache (see OriginBlobStore.through). */
  reader(ref: UpstreamRef): Pick<ContentStore, 'stat' | 'read'>;
}

export interface StoredBlobEvent {
  readonly digest: Digest;
  readonly size: number;
  /** The upload was itself a copy from another origin (the replica header). */
  readonly replica: boolean;
  /** The namespace the write carried, which copies carry on (backend routing). */
  readonly namespace?: string;
}

export function createOriginRoutes(options: OriginRoutesOptions): FastifyPluginAsync {
  const { store } = options;
  const limits = options.limits ?? originLimitsSchema.parse(undefined);
  const uploads = createUploadSessions({
    dir: options.uploadsDir,
    store,
    limits,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const log = options.logger.child({ component: 'origin-routes' });
  const blobsStored = options.metrics.counter(
    'blobs_stored_total',
    'Blobs newly stored (PUT or upload commit).',
  );
  const bytesStored = options.metrics.counter('blob_bytes_stored_total', 'Bytes of newly stored blobs.');
  const bytesServed = options.metrics.counter(
    'blob_bytes_served_total',
    'Blob bytes sent in full or ranged GETs.',
  );
  const blobsDeleted = options.metrics.counter('blobs_deleted_total', 'Blobs deleted.');
  const metainfo = options.metainfo ?? createOriginMetainfo({ store });

  const recordStored = (result: { size: number; created: boolean }) => {
    if (!result.created) return;
    blobsStored.inc();
    bytesStored.inc(result.size);
  };

  return async function originRoutes(app: FastifyInstance) {
    installErrorHandler(app);
    // Blob and chunk bodies are raw byte streams whatever their Content-Type: leave
    // them unparsed and read `request.raw` in the handlers.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    /** The store, or the upstream reader a read names. */
    const readerOf = (request: FastifyRequest): Pick<ContentStore, 'stat' | 'read'> => {
      const ref = upstreamRefOf(request.query);
      if (ref === undefined) return store;
      if (options.upstreams === undefined) throw new UpstreamUnknownError(ref.registry);
      return options.upstreams.reader(ref);
    };

    app.head('/v1/blobs/:digest', async (request, reply) => {
      const { digest } = blobParamsSchema.parse(request.params);
      const stat = await readerOf(request).stat(digest);
      if (stat === undefined) throw new BlobNotFoundError(digest.value);
      return reply.code(200).header('content-length', stat.size).header('accept-ranges', 'bytes').send();
    });

    app.get('/v1/blobs/:digest', { exposeHeadRoute: false }, async (request, reply) => {
      const { digest } = blobParamsSchema.parse(request.params);
      const reader = readerOf(request);
      const stat = await reader.stat(digest);
      if (stat === undefined) throw new BlobNotFoundError(digest.value);
      let range;
      try {
        range = parseRangeHeader(request.headers.range, stat.size);
      } catch (err) {
        if (err instanceof RangeNotSatisfiableError) reply.header('content-range', `bytes */${stat.size}`);
        throw err;
      }
      let body: Readable;
      try {
        body = await reader.read(digest, range);
      } catch (err) {
        // Deleted (or replaced) between stat and read.
        if (err instanceof ObjectNotFoundError) throw new BlobNotFoundError(digest.value);
        if (err instanceof InvalidRangeError)
          throw new RangeNotSatisfiableError(err.size, request.headers.range ?? '');
        throw err;
      }
      const length = range === undefined ? stat.size : range.end - range.start + 1;
      body.once('end', () => bytesServed.inc(length));
      reply
        .header('content-type', 'application/octet-stream')
        .header('accept-ranges', 'bytes')
        .header('content-length', length);
      if (range === undefined) return reply.code(200).send(body);
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${stat.size}`)
        .send(body);
    });

    registerOriginMetainfoRoute(app, metainfo);
    registerUpstreamTagRoute(app, options.upstreams);
    if (options.seeding !== undefined) registerOriginSeedRoute(app, options.seeding);

    app.put('/v1/blobs/:digest', async (request, reply) => {
      const { digest } = blobParamsSchema.parse(request.params);
      const { namespace } = blobWriteQuerySchema.parse(request.query);
      const size = declaredLength(request);
      if (size !== undefined && size > limits.maxBlobBytes)
        throw new ContentTooLargeError(limits.maxBlobBytes, 'blob');
      const result = await streamed(request, () =>
        store.write(digest, request.raw, {
          maxSize: limits.maxBlobBytes,
          ...(size === undefined ? {} : { size }),
          ...(namespace === undefined ? {} : { namespace }),
        }),
      );
      recordStored(result);
      metainfo.prepare(digest, result.size);
      log.debug({ digest: digest.value, size: result.size, created: result.created }, 'blob stored');
      const replica = request.headers[REPLICA_HEADER] === '1';
      await options.onStored?.({
        digest,
        size: result.size,
        replica,
        ...(namespace === undefined ? {} : { namespace }),
      });
      return reply.code(201).send();
    });

    app.delete('/v1/blobs/:digest', async (request, reply) => {
      const { digest } = blobParamsSchema.parse(request.params);
      if (!(await store.delete(digest))) throw new BlobNotFoundError(digest.value);
      metainfo.forget(digest);
      blobsDeleted.inc();
      log.info({ digest: digest.value }, 'blob deleted');
      return reply.code(202).send();
    });

    app.post('/v1/uploads', async (_request, reply) => {
      const uploadId = await uploads.create();
      return reply
        .code(201)
        .header('location', `/v1/uploads/${uploadId}`)
        .send(uploadCreatedSchema.parse({ uploadId }));
    });

    app.get('/v1/uploads/:id', async (request, reply) => {
      const { id } = uploadParamsSchema.parse(request.params);
      return reply
        .code(200)
        .send(uploadStatusSchema.parse({ uploadId: id, offset: await uploads.offset(id) }));
    });

    app.patch('/v1/uploads/:id', async (request, reply) => {
      const { id } = uploadParamsSchema.parse(request.params);
      const offset = await appendChunk(request, id);
      return reply.code(202).send(uploadStatusSchema.parse({ uploadId: id, offset }));
    });

    app.put('/v1/uploads/:id', async (request, reply) => {
      const { id } = uploadParamsSchema.parse(request.params);
      const { digest, namespace } = uploadCommitQuerySchema.parse(request.query);
      // Like the OCI API, the commit may carry the last chunk.
      if (hasBody(request)) await appendChunk(request, id);
      const result = await uploads.commit(id, digest, namespace === undefined ? {} : { namespace });
      recordStored(result);
      metainfo.prepare(digest, result.size);
      log.debug({ digest: digest.value, size: result.size, uploadId: id }, 'upload committed');
      await options.onStored?.({
        digest,
        size: result.size,
        replica: false,
        ...(namespace === undefined ? {} : { namespace }),
      });
      return reply.code(201).send();
    });

    app.delete('/v1/uploads/:id', async (request, reply) => {
      const { id } = uploadParamsSchema.parse(request.params);
      if (!(await uploads.cancel(id))) throw new UploadNotFoundError(id);
      return reply.code(204).send();
    });
  };

  async function appendChunk(request: FastifyRequest, id: string): Promise<number> {
    const length = declaredLength(request);
    const header = request.headers['content-range'];
    const range = header === undefined ? undefined : parseContentRange(header);
    // `Upload-Offset` (as in tus) states where a chunk of unknown length starts.
    const offset = uploadOffsetHeader(request);
    if (range !== undefined && offset !== undefined && range.start !== offset) {
      throw new InvalidRequestError(`Upload-Offset ${offset} does not match Content-Range ${header ?? ''}`);
    }
    const start = range?.start ?? offset;
    const rangeLength = range === undefined ? undefined : range.end - range.start + 1;
    if (length !== undefined && rangeLength !== undefined && length !== rangeLength) {
      throw new InvalidRequestError(`Content-Length ${length} does not match Content-Range ${header ?? ''}`);
    }
    const chunkLength = length ?? rangeLength;
    return streamed(request, () =>
      uploads.append(id, request.raw, {
        ...(start === undefined ? {} : { start }),
        ...(chunkLength === undefined ? {} : { length: chunkLength }),
      }),
    );
  }
}

/** Runs a body-consuming operation, reporting a client that went away as such. */
async function streamed<T>(request: FastifyRequest, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    // Typed errors (bad digest, too large, ...) are ours to report even if the body
    // stream was torn down because of them.
    if (!(err instanceof KrakenError) && (request.raw.readableAborted || request.raw.errored !== null)) {
      throw new RequestAbortedError(err);
    }
    throw err;
  }
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  const length = Number(header);
  if (!Number.isSafeInteger(length) || length < 0)
    throw new InvalidRequestError(`invalid Content-Length "${header}"`);
  return length;
}

function uploadOffsetHeader(request: FastifyRequest): number | undefined {
  const header = request.headers['upload-offset'];
  if (header === undefined) return undefined;
  const offset = Number(header);
  if (typeof header !== 'string' || !/^\d+$/.test(header) || !Number.isSafeInteger(offset)) {
    throw new InvalidRequestError(`invalid Upload-Offset "${String(header).slice(0, 40)}"`);
  }
  return offset;
}

function hasBody(request: FastifyRequest): boolean {
  return request.headers['transfer-encoding'] !== undefined || (declaredLength(request) ?? 0) > 0;
}
