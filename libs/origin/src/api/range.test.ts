import { describe, expect, it } from 'vitest';
import { parseContentRange, parseRangeHeader } from './range.js';

describe('Range header', () => {
  it('resolves ranges against the size, clamping the end', () => {
    expect(parseRangeHeader(undefined, 10)).toBeUndefined();
    expect(parseRangeHeader('bytes=0-3', 10)).toEqual({ start: 0, end: 3 });
    expect(parseRangeHeader('bytes=4-', 10)).toEqual({ start: 4, end: 9 });
    expect(parseRangeHeader('bytes=8-100', 10)).toEqual({ start: 8, end: 9 });
    expect(parseRangeHeader('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRangeHeader('bytes=-30', 10)).toEqual({ start: 0, end: 9 });
  });

  it('answers 416 for ranges outside the blob', () => {
    for (const header of ['bytes=10-12', 'bytes=20-', 'bytes=-0', 'bytes=0-0']) {
      const size = header === 'bytes=0-0' ? 0 : 10;
      expect(() => parseRangeHeader(header, size), header).toThrow(
        expect.objectContaining({ code: 'KRAKEN_RANGE_NOT_SATISFIABLE', statusCode: 416 }),
      );
    }
  });

  it('answers 400 for malformed or multiple ranges', () => {
    for (const header of [
      'bytes=5-2',
      'bytes=-',
      'items=0-1',
      'bytes=0-1,3-4',
      'bytes=a-b',
      `bytes=0-${'9'.repeat(30)}`,
    ]) {
      expect(() => parseRangeHeader(header, 10), header).toThrow(
        expect.objectContaining({ code: 'KRAKEN_INVALID_REQUEST' }),
      );
    }
  });
});

describe('Content-Range header', () => {
  it('accepts the OCI and the HTTP forms', () => {
    expect(parseContentRange('0-99')).toEqual({ start: 0, end: 99 });
    expect(parseContentRange('bytes 100-199/*')).toEqual({ start: 100, end: 199 });
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, end: 199 });
  });

  it('rejects anything else', () => {
    for (const header of ['', '5-2', 'bytes=0-1', '-1', '0-', 'bytes 0-1/x']) {
      expect(() => parseContentRange(header), header).toThrow(
        expect.objectContaining({ code: 'KRAKEN_INVALID_REQUEST' }),
      );
    }
  });
});
