/**
 * Blob pull and delete: GET/HEAD with a single `Range` (206 / 416), DELETE. HEAD
 * answers from `statBlob` alone and never opens the content.
 */
import type { Digest } from '@kraken/oci-content';
import { contentRange, resolveReadRange } from '../request/byte-range.js';
import { BlobUnknownError, RangeInvalidError, UnsupportedError } from '../errors.js';
import type { EndpointHandler } from '../registry-context.js';
import { requireWritable } from '../registry-context.js';
import type { ByteRange } from '../registry-store.js';
import { header } from '../request/request-params.js';

type BlobEndpoint = { readonly repo: string; readonly digest: Digest };

/** Content-addressed: a blob never changes under its digest. */
const IMMUTABLE = 'max-age=31536000';

export const getBlob: EndpointHandler<BlobEndpoint> = async (ctx, request, reply, { repo, digest }) => {
  const stat = await ctx.store.statBlob(repo, digest);
  if (stat === undefined) throw new BlobUnknownError(digest.value);
  reply.header('accept-ranges', 'bytes');
  if (request.method === 'HEAD') {
    reply
      .code(200)
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(stat.size))
      .header('docker-content-digest', digest.value)
      .header('etag', `"${digest.value}"`)
      .header('cache-control', IMMUTABLE)
      .send();
    return;
  }
  let range: ByteRange | undefined;
  try {
    range = resolveReadRange(header(request, 'range'), stat.size);
  } catch (err) {
    if (err instanceof RangeInvalidError) reply.header('content-range', `bytes */${stat.size}`);
    throw err;
  }
  const body = await ctx.store.readBlob(repo, digest, range);
  if (body === undefined) throw new BlobUnknownError(digest.value);
  const length = range === undefined ? stat.size : range.end - range.start + 1;
  if (range !== undefined) reply.code(206).header('content-range', contentRange(range, stat.size));
  else reply.code(200);
  reply.raw.once('finish', () => ctx.metrics.bytesServed('blob', length));
  reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(length))
    .header('docker-content-digest', digest.value)
    .header('etag', `"${digest.value}"`)
    .header('cache-control', IMMUTABLE)
    .send(body);
};

export const deleteBlob: EndpointHandler<BlobEndpoint> = async (ctx, _request, reply, { repo, digest }) => {
  const { store } = requireWritable(ctx);
  if (store.deleteBlob === undefined) throw new UnsupportedError('blob deletion is disabled');
  if (!(await store.deleteBlob(repo, digest))) throw new BlobUnknownError(digest.value);
  reply.code(202).send();
};
