/**
 * Ranged GETs as the StorageBackend contract wants them: `Range: bytes=s-e`, a 206
 * answer checked against what was asked, and a server that ignores Range (200 with
 * the whole body) handled by skipping to the start and stopping after the end, so the
 * caller sees exactly the range either way. 416 becomes InvalidRangeError.
 */
import { Readable } from 'node:stream';
import { InvalidRangeError, ObjectNotFoundError, UpstreamResponseError } from '../../errors.js';
import { contentLength, discard, header, type HttpResponse } from './http-transport.js';
import type { ByteRange } from '../../storage-backend.js';

interface ContentRange {
  readonly start: number | undefined;
  readonly end: number | undefined;
  readonly size: number | undefined;
}

/** Parses `bytes s-e/size`, `bytes s-e/*` and `bytes *\/size`. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const match = value === undefined ? null : /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(value.trim());
  if (match === null) return undefined;
  const num = (s: string | undefined) => (s === undefined || s === '*' ? undefined : Number(s));
  return { start: num(match[1]), end: num(match[2]), size: num(match[3]) };
}

export interface RangedResponseOptions {
  readonly backend: string;
  readonly key: string;
  readonly range: ByteRange | undefined;
  readonly response: HttpResponse;
}

/**
 * The body of a (possibly ranged) GET, or a typed error. Consumes or destroys the body
 * of every non-successful response.
 */
export async function rangedBody(options: RangedResponseOptions): Promise<Readable> {
  const { backend, key, range, response } = options;
  const { status, body } = response;
  if (status === 404) {
    await body.dump();
    throw new ObjectNotFoundError(key);
  }
  if (status === 416 && range !== undefined) {
    await body.dump();
    throw new InvalidRangeError(
      key,
      range,
      parseContentRange(header(response.headers, 'content-range'))?.size ?? 0,
    );
  }
  if (status === 200) {
    if (range === undefined) return body;
    const size = contentLength(response.headers);
    if (size !== undefined && range.start >= size) {
      await body.dump();
      throw new InvalidRangeError(key, range, size);
    }
    return Readable.from(slice(body, range.start, range.end), { objectMode: false });
  }
  if (status === 206 && range !== undefined) {
    const got = parseContentRange(header(response.headers, 'content-range'));
    const expectedEnd = got?.size === undefined ? range.end : Math.min(range.end, got.size - 1);
    if (got?.start !== range.start || got.end === undefined || got.end !== expectedEnd) {
      discard(body);
      throw new UpstreamResponseError(
        backend,
        `answered range ${range.start}-${range.end} of ${key} with Content-Range "${header(response.headers, 'content-range') ?? ''}"`,
        { status },
      );
    }
    return body;
  }
  await body.dump();
  throw new UpstreamResponseError(backend, `unexpected status ${status} reading ${key}`, { status });
}

/** Bytes `start..end` (inclusive) of a whole-object stream; stops reading after `end`. */
async function* slice(source: AsyncIterable<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let offset = 0;
  for await (const chunk of source) {
    const from = Math.max(0, start - offset);
    const to = Math.min(chunk.length, end - offset + 1);
    offset += chunk.length;
    if (to > from) yield chunk.subarray(from, to);
    // Leaving the loop destroys the source: the rest of a 20 GB blob is not downloaded.
    if (offset > end) return;
  }
}
