/**
 * Request bodies as streams. The plugin never lets fastify buffer a body; handlers
 * read `request.raw` themselves, either into an upload session or, for manifests,
 * into memory up to a hard limit.
 */
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';

/** The declared Content-Length, when there is one. */
export function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  const value = Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export function hasBody(request: FastifyRequest): boolean {
  const length = declaredLength(request);
  if (length !== undefined) return length > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

export function bodyStream(request: FastifyRequest): Readable {
  return request.raw;
}

/**
 * Reads the whole body into memory, failing with `tooLarge()` as soon as more than
 * `limit` bytes are declared or arrive. Before failing, a body of up to `drainLimit`
 * bytes (default 4 × limit) is read and discarded: a client still sending when the
 * server answers and closes sees a broken pipe instead of the 413, so draining a
 * modest excess is what lets a real client report the real error.
 */
export async function readBoundedBody(
  request: FastifyRequest,
  limit: number,
  tooLarge: () => Error,
  drainLimit = limit * 4,
): Promise<Buffer> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limit) {
    if (declared <= drainLimit) await discard(request, drainLimit);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw.iterator({ destroyOnReturn: false })) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buffer.byteLength;
    if (total > limit) {
      await discard(request, drainLimit - total);
      throw tooLarge();
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

/** Reads and drops up to `maxBytes` more of the body; stops early past that bound. */
async function discard(request: FastifyRequest, maxBytes: number): Promise<void> {
  let seen = 0;
  for await (const chunk of request.raw.iterator({ destroyOnReturn: false })) {
    seen += (chunk as Uint8Array).byteLength;
    if (seen > maxBytes) return;
  }
}
