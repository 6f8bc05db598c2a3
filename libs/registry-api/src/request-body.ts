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
 * `limit` bytes are declared or arrive. The request is not destroyed on failure, so
 * the error can still be answered.
 */
export async function readBoundedBody(request: FastifyRequest, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw.iterator({ destroyOnReturn: false })) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buffer.byteLength;
    if (total > limit) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}
