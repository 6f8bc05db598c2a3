import { describe, expect, it } from 'vitest';
import { ContentTooLargeError } from '@kraken/oci-content';
import {
  MAX_PIECE_COUNT,
  MAX_PIECE_LENGTH,
  MAX_SWARM_BLOB_SIZE,
  MIN_PIECE_LENGTH,
  isPowerOfTwo,
  pieceCountFor,
  pieceLengthFor,
} from './piece-length.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('pieceLengthFor', () => {
  it('uses the minimum for small blobs, including empty ones', () => {
    expect(pieceLengthFor(0)).toBe(MIN_PIECE_LENGTH);
    expect(pieceLengthFor(1)).toBe(MIN_PIECE_LENGTH);
    expect(pieceLengthFor(MIN_PIECE_LENGTH * MAX_PIECE_COUNT)).toBe(MIN_PIECE_LENGTH);
  });

  it('doubles once the minimum would need more than MAX_PIECE_COUNT pieces', () => {
    expect(pieceLengthFor(MIN_PIECE_LENGTH * MAX_PIECE_COUNT + 1)).toBe(2 * MIN_PIECE_LENGTH);
  });

  it('picks 16 MiB pieces for a 20 GB layer', () => {
    const size = 20 * 1000 ** 3;
    expect(pieceLengthFor(size)).toBe(16 * MiB);
    expect(pieceCountFor(size, 16 * MiB)).toBe(1193);
  });

  it('keeps every size within the piece-count and piece-length bounds', () => {
    for (const size of [0, 1, 300 * MiB, 1 * GiB, 7 * GiB + 3, 100 * GiB, MAX_SWARM_BLOB_SIZE]) {
      const length = pieceLengthFor(size);
      expect(isPowerOfTwo(length)).toBe(true);
      expect(length).toBeGreaterThanOrEqual(MIN_PIECE_LENGTH);
      expect(length).toBeLessThanOrEqual(MAX_PIECE_LENGTH);
      expect(pieceCountFor(size, length)).toBeLessThanOrEqual(MAX_PIECE_COUNT);
      // The smallest such length: half of it would need too many pieces (or go below the floor).
      if (length > MIN_PIECE_LENGTH) expect(pieceCountFor(size, length / 2)).toBeGreaterThan(MAX_PIECE_COUNT);
    }
  });

  it('refuses blobs the swarm cannot carry and nonsense sizes', () => {
    expect(() => pieceLengthFor(MAX_SWARM_BLOB_SIZE + 1)).toThrow(ContentTooLargeError);
    expect(() => pieceLengthFor(-1)).toThrow(RangeError);
    expect(() => pieceLengthFor(1.5)).toThrow(RangeError);
  });
});

describe('isPowerOfTwo', () => {
  it('accepts powers of two only', () => {
    expect([1, 2, 1024, MAX_PIECE_LENGTH].every(isPowerOfTwo)).toBe(true);
    expect([0, -2, 3, 1000, 0.5, Number.NaN].some(isPowerOfTwo)).toBe(false);
  });
});
