/**
 * Blob push endpoints: starting a session (plain, monolithic with `?digest=`, or a
 * cross-repository mount), PATCH chunks (with Content-Range) or a streamed body
 * (without), the closing PUT, status and cancel. Bytes go straight from the request
 * stream into the upload store, which verifies the digest before the store sees them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  InvalidDigestError,
  SUPPORTED_DIGEST_ALGORITHMS,
  type Digest,
  type DigestAlgorithm,
} from '@kraken/oci-content';
import { parseChunkRange } from '../request/byte-range.js';
import { repositoryAccess } from '../auth/registry-access.js';
import {
  DeniedError,
  RangeInvalidError,
  UnauthorizedError,
  UploadInvalidError,
  UploadUnknownError,
} from '../errors.js';
import type { EndpointHandler, RegistryContext } from '../registry-context.js';
import { requireWritable } from '../registry-context.js';
import { blobLocation, setUploadHeaders } from './registry-locations.js';
import { parseDigestParam, parseRepositoryName } from '../request/registry-names.js';
import { bodyStream, declaredLength, hasBody } from '../request/request-body.js';
import { header, queryOf, single } from '../request/request-params.js';
import type { AppendResult } from '../uploads/upload-store.js';

type UploadsEndpoint = { readonly repo: string };
type UploadEndpoint = { readonly repo: string; readonly id: string };

/** POST /v2/<name>/blobs/uploads/ */
export const startUpload: EndpointHandler<UploadsEndpoint> = async (ctx, request, reply, { repo }) => {
  const { store, uploads } = requireWritable(ctx);
  const query = queryOf(request);
  const mount = single(query['mount']);
  if (mount !== undefined) {
    const digest = parseDigestParam(mount, 'mount');
    const from = single(query['from']);
    const fromRepo = from === undefined || from === '' ? undefined : parseRepositoryName(from);
    if ((await mayPull(ctx, request, fromRepo)) && (await store.mountBlob(fromRepo, repo, digest))) {
      sendCreated(reply, repo, digest);
      return;
    }
    // Not mountable (or not readable by this caller): the spec's fallback is an ordinary
    // session for the client to push into.
  }
  const digestParam = single(query['digest']);
  if (mount === undefined && digestParam !== undefined) {
    const digest = parseDigestParam(digestParam, 'digest');
    const session = await uploads.create(repo, { algorithm: digest.algorithm });
    try {
      await appendBody(ctx, request, reply, { repo, id: session.id });
      await uploads.complete(repo, session.id, digest, (blob) => store.putBlob(repo, blob));
    } catch (err) {
      await uploads.cancel(repo, session.id).catch(() => undefined);
      throw err;
    }
    ctx.logger.debug({ repo, digest: digest.value }, 'blob pushed in one request');
    sendCreated(reply, repo, digest);
    return;
  }
  const session = await uploads.create(repo, {
    algorithm: algorithmParam(single(query['digest-algorithm'])),
  });
  setUploadHeaders(reply, session).code(202).send();
};

/** PATCH <location>: one chunk (Content-Range) or a streamed body. */
export const patchUpload: EndpointHandler<UploadEndpoint> = async (ctx, request, reply, endpoint) => {
  requireWritable(ctx);
  const { session } = await appendBody(ctx, request, reply, endpoint);
  setUploadHeaders(reply, session).code(202).send();
};

/** PUT <location>?digest=: closes the session, with an optional last chunk. */
export const completeUpload: EndpointHandler<UploadEndpoint> = async (ctx, request, reply, endpoint) => {
  const { store, uploads } = requireWritable(ctx);
  const { repo, id } = endpoint;
  const digest = parseDigestParam(single(queryOf(request)['digest']), 'digest query parameter');
  if (hasBody(request)) await appendBody(ctx, request, reply, endpoint);
  await uploads.complete(repo, id, digest, (blob) => store.putBlob(repo, blob));
  ctx.logger.debug({ repo, digest: digest.value }, 'blob upload completed');
  sendCreated(reply, repo, digest);
};

/** GET <location>: where the session stands. */
export const getUploadStatus: EndpointHandler<UploadEndpoint> = async (
  ctx,
  _request,
  reply,
  { repo, id },
) => {
  const { uploads } = requireWritable(ctx);
  const session = await uploads.get(repo, id);
  if (session === undefined) throw new UploadUnknownError(id);
  setUploadHeaders(reply, session).code(204).send();
};

/** DELETE <location>: cancels the session. */
export const cancelUpload: EndpointHandler<UploadEndpoint> = async (ctx, _request, reply, { repo, id }) => {
  const { uploads } = requireWritable(ctx);
  if (!(await uploads.cancel(repo, id))) throw new UploadUnknownError(id);
  reply.code(204).send();
};

/**
 * Streams the request body into the session. A chunk that does not start where the
 * session stands gets 416 with the session's current Location and Range, so the
 * client can resume from there.
 */
async function appendBody(
  ctx: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
  { repo, id }: UploadEndpoint,
): Promise<AppendResult> {
  const { uploads } = requireWritable(ctx);
  const range = parseChunkRange(header(request, 'content-range'));
  const length = declaredLength(request);
  const rangeLength = range === undefined ? undefined : range.end - range.start + 1;
  if (rangeLength !== undefined && length !== undefined && length !== rangeLength) {
    throw new UploadInvalidError(
      `Content-Length ${length} does not match Content-Range ${range?.start}-${range?.end}`,
    );
  }
  try {
    const result = await uploads.append(repo, id, bodyStream(request), {
      offset: range?.start,
      length: rangeLength ?? length,
      maxTotalBytes: ctx.limits.maxUploadBytes,
    });
    ctx.metrics.bytesReceived('blob', result.bytes);
    return result;
  } catch (err) {
    if (err instanceof RangeInvalidError) setUploadHeaders(reply, { repo, id, offset: err.size });
    throw err;
  }
}

/** Whether the caller may read the repository a blob is mounted from. */
async function mayPull(
  ctx: RegistryContext,
  request: FastifyRequest,
  repo: string | undefined,
): Promise<boolean> {
  if (ctx.authorize === undefined || repo === undefined) return true;
  try {
    await ctx.authorize(request, repositoryAccess(repo, ['pull']));
    return true;
  } catch (err) {
    if (err instanceof UnauthorizedError || err instanceof DeniedError) return false;
    throw err;
  }
}

function sendCreated(reply: FastifyReply, repo: string, digest: Digest): void {
  reply
    .code(201)
    .header('location', blobLocation(repo, digest))
    .header('docker-content-digest', digest.value)
    .send();
}

function algorithmParam(value: string | undefined): DigestAlgorithm {
  if (value === undefined) return 'sha256';
  const algorithm = SUPPORTED_DIGEST_ALGORITHMS.find((a) => a === value);
  if (algorithm === undefined)
    throw new InvalidDigestError(`unsupported digest algorithm "${value.slice(0, 32)}"`);
  return algorithm;
}
