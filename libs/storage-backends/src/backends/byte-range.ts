/**
 * The byte ranges of StorageBackend.read as backends check and send them: a range is
 * well formed when its bounds are safe integers with 0 ≤ start ≤ end, and it goes on
 * the wire in HTTP's `bytes=start-end` form, which S3's GetObject takes as well.
 */
import type { ByteRange } from '../storage-backend.js';

export function isWellFormedRange(range: ByteRange): boolean {
  return (
    Number.isSafeInteger(range.start) &&
    Number.isSafeInteger(range.end) &&
    range.start >= 0 &&
    range.end >= range.start
  );
}

export function rangeHeader(range: ByteRange): string {
  return `bytes=${range.start}-${range.end}`;
}
