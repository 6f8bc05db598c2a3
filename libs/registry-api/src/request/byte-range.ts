/**
 * HTTP byte ranges as this API uses them: the `Range` header of blob reads (a single
 * range, RFC 9110 section 14) and the `Content-Range` header of upload chunks
 * (`<start>-<end>`, inclusive, as the distribution spec writes it).
 */
import type { ByteRange } from '../registry-store.js';
import { RangeInvalidError, UploadInvalidError } from '../errors.js';

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;
const CHUNK_RANGE = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/;

/**
 * Resolves a read `Range` header against a blob of `size` bytes. Returns undefined when
 * the whole blob should be sent: no header, another unit, several ranges or a header
 * that does not parse (RFC 9110 lets a server ignore those). Throws RangeInvalidError
 * (416) for a single range that cannot be satisfied.
 */
export function resolveReadRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = SINGLE_RANGE.exec(header.trim());
  if (match === null) return undefined;
  const first = match[1] ?? '';
  const last = match[2] ?? '';
  if (first === '' && last === '') return undefined;
  const unsatisfiable = (): RangeInvalidError =>
    new RangeInvalidError(`range ${header} is not satisfiable`, size);
  if (first === '') {
    // Suffix range: the last N bytes.
    const suffix = toSafeInteger(last);
    if (suffix === undefined || suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = toSafeInteger(first);
  if (start === undefined || start >= size) throw unsatisfiable();
  if (last === '') return { start, end: size - 1 };
  const end = toSafeInteger(last);
  if (end === undefined || end < start) throw unsatisfiable();
  return { start, end: Math.min(end, size - 1) };
}

/** Parses an upload chunk's `Content-Range`; undefined when the header is absent. */
export function parseChunkRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = CHUNK_RANGE.exec(header.trim());
  const start = toSafeInteger(match?.[1] ?? '');
  const end = toSafeInteger(match?.[2] ?? '');
  if (start === undefined || end === undefined || end < start) {
    throw new UploadInvalidError(`malformed Content-Range "${header.slice(0, 64)}"`);
  }
  return { start, end };
}

/** The `Content-Range` value of a 206 response. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

/**
 * The `Range` header of upload responses: `0-<last byte received>`. An empty session
 * reports `0-0`, as the reference registry does (`0--1` is not a valid range).
 */
export function uploadRange(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}

function toSafeInteger(digits: string): number | undefined {
  if (digits === '' || digits.length > 16) return undefined;
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : undefined;
}
