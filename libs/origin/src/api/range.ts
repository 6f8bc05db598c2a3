/**
 * HTTP byte ranges for the origin: `Range` on blob reads and `Content-Range` on upload
 * chunks. Only single ranges are served; multipart/byteranges is never needed
 * between components.
 */
import type { ByteRange } from '@kraken/storage-backends';
import { InvalidRequestError } from '@kraken/service-kit';
import { RangeNotSatisfiableError } from '../errors.js';

const RANGE = /^bytes=(\d*)-(\d*)$/;
const CONTENT_RANGE = /^(?:bytes )?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/;

/**
 * Resolves a `Range` header against the blob size. Undefined means "whole blob";
 * the returned end is clamped to the last byte.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = RANGE.exec(header.trim());
  if (match === null) throw new InvalidRequestError(`unsupported Range header "${header.slice(0, 100)}"`);
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') throw new InvalidRequestError(`malformed Range header "${header}"`);
  if (first === '') {
    // Suffix range: the last N bytes.
    const suffix = safeInteger(last, header);
    if (suffix === 0 || size === 0) throw new RangeNotSatisfiableError(size, header);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = safeInteger(first, header);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : safeInteger(last, header);
  if (end < start) throw new InvalidRequestError(`Range header "${header}" ends before it starts`);
  if (start >= size) throw new RangeNotSatisfiableError(size, header);
  return { start, end: Math.min(end, size - 1) };
}

/** Parses an upload chunk's `Content-Range` (`bytes 0-99/*`, `0-99`). */
export function parseContentRange(header: string): ByteRange {
  const match = CONTENT_RANGE.exec(header.trim());
  if (match === null)
    throw new InvalidRequestError(`malformed Content-Range header "${header.slice(0, 100)}"`);
  const start = safeInteger(match[1] ?? '', header);
  const end = safeInteger(match[2] ?? '', header);
  if (end < start) throw new InvalidRequestError(`Content-Range "${header}" ends before it starts`);
  return { start, end };
}

function safeInteger(text: string, header: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new InvalidRequestError(`range bound out of bounds in "${header.slice(0, 100)}"`);
  return n;
}
