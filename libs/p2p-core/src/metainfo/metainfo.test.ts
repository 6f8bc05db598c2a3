import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { InvalidMetainfoError, InvalidPieceIndexError } from '../errors.js';
import {
  MAX_METAINFO_BYTES,
  metainfoId,
  parseMetainfo,
  pieceCount,
  pieceRange,
  serializeMetainfo,
  toMetainfo,
  verifyPiece,
  type Metainfo,
} from './metainfo.js';
import { MAX_PIECE_COUNT, MIN_PIECE_LENGTH } from './piece-length.js';

const sha = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

function sample(size = MIN_PIECE_LENGTH * 2 + 10): Metainfo {
  const count = Math.ceil(size / MIN_PIECE_LENGTH);
  return toMetainfo({
    digest: digestOf('x').value,
    size,
    pieceLength: MIN_PIECE_LENGTH,
    pieceHashes: Array.from({ length: count }, (_, i) => sha(String(i))),
  });
}

describe('metainfo serialisation and id', () => {
  it('round-trips through the canonical JSON', () => {
    const m = sample();
    const text = serializeMetainfo(m);
    expect(text.startsWith('{"digest":')).toBe(true);
    expect(text).not.toMatch(/\s/);
    expect(parseMetainfo(text)).toEqual(m);
    expect(parseMetainfo(Buffer.from(text))).toEqual(m);
  });

  it('is identified by the sha256 of its canonical serialisation, whatever key order it arrived in', () => {
    const m = sample();
    expect(metainfoId(m)).toBe(sha(serializeMetainfo(m)));
    const reordered = JSON.stringify({
      pieceHashes: m.pieceHashes,
      pieceLength: m.pieceLength,
      size: m.size,
      digest: m.digest,
    });
    expect(metainfoId(parseMetainfo(reordered))).toBe(metainfoId(m));
  });

  it('gives different ids to different piece layouts of the same blob', () => {
    const a = toMetainfo({
      digest: digestOf('x').value,
      size: 10,
      pieceLength: MIN_PIECE_LENGTH,
      pieceHashes: [sha('a')],
    });
    const b = toMetainfo({
      digest: digestOf('x').value,
      size: 10,
      pieceLength: MIN_PIECE_LENGTH * 2,
      pieceHashes: [sha('a')],
    });
    expect(metainfoId(a)).not.toBe(metainfoId(b));
  });
});

describe('metainfo validation', () => {
  const valid = {
    digest: digestOf('x').value,
    size: 10,
    pieceLength: MIN_PIECE_LENGTH,
    pieceHashes: [sha('a')],
  };

  it.each([
    ['bad digest', { ...valid, digest: 'sha256:abc' }, 'digest'],
    ['negative size', { ...valid, size: -1 }, 'size'],
    ['fractional size', { ...valid, size: 1.5 }, 'size'],
    ['piece length not a power of two', { ...valid, pieceLength: MIN_PIECE_LENGTH + 1 }, 'pieceLength'],
    ['piece length below the minimum', { ...valid, pieceLength: 1024 }, 'pieceLength'],
    ['uppercase hash', { ...valid, pieceHashes: [sha('a').toUpperCase()] }, 'pieceHashes.0'],
    ['short hash', { ...valid, pieceHashes: ['abcd'] }, 'pieceHashes.0'],
    ['too few hashes', { ...valid, pieceHashes: [] }, 'pieceHashes'],
    ['too many hashes', { ...valid, pieceHashes: [sha('a'), sha('b')] }, 'pieceHashes'],
    ['unknown key', { ...valid, extra: 1 }, 'metainfo'],
    ['missing key', { digest: valid.digest, size: 10, pieceLength: MIN_PIECE_LENGTH }, 'pieceHashes'],
  ])('rejects %s, naming the field', (_name, value, field) => {
    expect(() => toMetainfo(value)).toThrow(InvalidMetainfoError);
    expect(() => toMetainfo(value)).toThrow(`invalid metainfo: ${field}`);
  });

  it('accepts an empty blob with no pieces', () => {
    const m = toMetainfo({ ...valid, size: 0, pieceHashes: [] });
    expect(pieceCount(m)).toBe(0);
  });

  it('rejects more than MAX_PIECE_COUNT pieces', () => {
    const size = MIN_PIECE_LENGTH * (MAX_PIECE_COUNT + 1);
    const hashes = Array.from({ length: MAX_PIECE_COUNT + 1 }, () => sha('a'));
    expect(() => toMetainfo({ ...valid, size, pieceHashes: hashes })).toThrow(InvalidMetainfoError);
  });

  it('rejects invalid JSON and oversized input with typed errors', () => {
    expect(() => parseMetainfo('{')).toThrow(InvalidMetainfoError);
    expect(() => parseMetainfo(' '.repeat(MAX_METAINFO_BYTES + 1))).toThrow(`exceeds ${MAX_METAINFO_BYTES}`);
  });

  it('fits the largest valid metainfo within MAX_METAINFO_BYTES', () => {
    const size = MIN_PIECE_LENGTH * 8 * MAX_PIECE_COUNT;
    const m = toMetainfo({
      digest: digestOf('x', 'sha512').value,
      size,
      pieceLength: MIN_PIECE_LENGTH * 8,
      pieceHashes: Array.from({ length: MAX_PIECE_COUNT }, () => sha('a')),
    });
    expect(Buffer.byteLength(serializeMetainfo(m))).toBeLessThan(MAX_METAINFO_BYTES);
  });
});

describe('pieceRange and verifyPiece', () => {
  it('returns full pieces and a short last piece', () => {
    const m = sample(MIN_PIECE_LENGTH * 2 + 10);
    expect(pieceRange(m, 0)).toEqual({ offset: 0, length: MIN_PIECE_LENGTH });
    expect(pieceRange(m, 1)).toEqual({ offset: MIN_PIECE_LENGTH, length: MIN_PIECE_LENGTH });
    expect(pieceRange(m, 2)).toEqual({ offset: 2 * MIN_PIECE_LENGTH, length: 10 });
  });

  it('rejects indexes outside the blob', () => {
    const m = sample(MIN_PIECE_LENGTH * 2 + 10);
    for (const index of [-1, 3, 1.5, Number.NaN])
      expect(() => pieceRange(m, index)).toThrow(InvalidPieceIndexError);
    expect(() => pieceRange(sample(0), 0)).toThrow(InvalidPieceIndexError);
  });

  it('verifies piece length and hash', () => {
    const data = Buffer.from('hello');
    const m = toMetainfo({
      digest: digestOf(data).value,
      size: 5,
      pieceLength: MIN_PIECE_LENGTH,
      pieceHashes: [sha(data)],
    });
    expect(verifyPiece(m, 0, data)).toBe(true);
    expect(verifyPiece(m, 0, Buffer.from('hellO'))).toBe(false);
    expect(verifyPiece(m, 0, Buffer.from('hell'))).toBe(false);
  });
});
