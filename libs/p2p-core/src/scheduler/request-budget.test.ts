import { describe, expect, it } from 'vitest';
import { outstandingRequestsFor } from './request-budget.js';
import { DEFAULT_SCHEDULER_LIMITS } from './scheduler-limits.js';

const MIB = 1024 * 1024;

describe('outstandingRequestsFor', () => {
  it('keeps the count for small pieces and the bytes for large ones', () => {
    const limits = { maxRequestsPerBlob: 8, maxRequestBytesPerBlob: 8 * MIB };
    expect(outstandingRequestsFor(128 * 1024, limits)).toBe(8);
    expect(outstandingRequestsFor(512 * 1024, limits)).toBe(8);
    expect(outstandingRequestsFor(1 * MIB, limits)).toBe(8);
    expect(outstandingRequestsFor(2 * MIB, limits)).toBe(4);
    expect(outstandingRequestsFor(4 * MIB, limits)).toBe(2);
  });

  it('keeps two requests outstanding however large the pieces, unless the count allows fewer', () => {
    expect(outstandingRequestsFor(64 * MIB, { maxRequestsPerBlob: 8, maxRequestBytesPerBlob: 8 * MIB })).toBe(
      2,
    );
    expect(outstandingRequestsFor(64 * MIB, { maxRequestsPerBlob: 1, maxRequestBytesPerBlob: 8 * MIB })).toBe(
      1,
    );
  });

  it('bounds the bytes requested by default to the same for 1 GiB and 4 GiB blobs', () => {
    const bytes = (pieceLength: number) =>
      pieceLength * outstandingRequestsFor(pieceLength, DEFAULT_SCHEDULER_LIMITS);
    expect(bytes(2 * MIB)).toBeLessThanOrEqual(DEFAULT_SCHEDULER_LIMITS.maxRequestBytesPerBlob);
    expect(bytes(512 * 1024)).toBeLessThanOrEqual(DEFAULT_SCHEDULER_LIMITS.maxRequestBytesPerBlob);
  });
});
