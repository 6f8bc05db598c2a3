import { describe, expect, it } from 'vitest';
import { contentRange, parseChunkRange, resolveReadRange, uploadRange } from './byte-range.js';
import { RangeInvalidError, UploadInvalidError } from '../errors.js';

describe('read ranges', () => {
  it.each([
    ['bytes=0-99', 1000, { start: 0, end: 99 }],
    ['bytes=900-', 1000, { start: 900, end: 999 }],
    ['bytes=-100', 1000, { start: 900, end: 999 }],
    ['bytes=-5000', 1000, { start: 0, end: 999 }],
    ['bytes=990-5000', 1000, { start: 990, end: 999 }],
    [' bytes=1-1 ', 1000, { start: 1, end: 1 }],
  ])('%s of %d bytes', (header, size, expected) => {
    expect(resolveReadRange(header, size)).toEqual(expected);
  });

  it.each([undefined, 'bytes=0-1,4-5', 'lines=1-2', 'bytes=', 'bytes=-', 'bytes=a-b', 'garbage'])(
    'serves the whole blob for %s',
    (header) => {
      expect(resolveReadRange(header, 1000)).toBeUndefined();
    },
  );

  it.each([
    ['bytes=1000-', 1000],
    ['bytes=5-4', 1000],
    ['bytes=-0', 1000],
    ['bytes=0-', 0],
    ['bytes=-10', 0],
    ['bytes=99999999999999999999-', 1000],
  ])('refuses %s of %d bytes', (header, size) => {
    expect(() => resolveReadRange(header, size)).toThrow(RangeInvalidError);
  });

  it('formats Content-Range', () => {
    expect(contentRange({ start: 5, end: 9 }, 10)).toBe('bytes 5-9/10');
  });
});

describe('upload chunk ranges', () => {
  it.each([
    ['0-99', { start: 0, end: 99 }],
    ['100-100', { start: 100, end: 100 }],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes 0-9/100', { start: 0, end: 9 }],
    ['bytes 0-9/*', { start: 0, end: 9 }],
  ])('parses %s', (header, expected) => {
    expect(parseChunkRange(header)).toEqual(expected);
  });

  it('treats a missing header as a streamed chunk', () => {
    expect(parseChunkRange(undefined)).toBeUndefined();
  });

  it.each(['9-0', '-5', '5-', 'abc', '0-1-2'])('rejects %s', (header) => {
    expect(() => parseChunkRange(header)).toThrow(UploadInvalidError);
  });

  it('reports upload progress as 0-<last byte>', () => {
    expect(uploadRange(0)).toBe('0-0');
    expect(uploadRange(1)).toBe('0-0');
    expect(uploadRange(10)).toBe('0-9');
  });
});
