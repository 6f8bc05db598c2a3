import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
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
import { SHA256_INITIAL_CHAIN, loadSha256Chain, resumeSha256 } from './sha256-chain.js';

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

  it('verifies piece length and hash', async () => {
    const data = Buffer.from('hello');
    const m = toMetainfo({
      digest: digestOf(data).value,
      size: 5,
      pieceLength: MIN_PIECE_LENGTH,
      pieceHashes: [sha(data)],
    });
    expect(await verifyPiece(m, 0, data)).toBe(true);
    expect(await verifyPiece(m, 0, Buffer.from('hellO'))).toBe(false);
    expect(await verifyPiece(m, 0, Buffer.from('hell'))).toBe(false);
  });
});

/** Chained metainfo for `data` built by hand: the run's state read at each boundary. */
function chained(data: Buffer, pieceLength = MIN_PIECE_LENGTH): Metainfo {
  const run = resumeSha256(SHA256_INITIAL_CHAIN, 0);
  const pieceHashes: string[] = [];
  for (let at = 0; at < data.length; at += pieceLength) {
    run.update(data.subarray(at, at + pieceLength));
    pieceHashes.push(at + pieceLength < data.length ? run.chainValue() : run.digest());
  }
  return toMetainfo({
    digest: digestOf(data).value,
    size: data.length,
    pieceLength,
    pieceHashing: 'sha256-chain',
    pieceHashes,
  });
}

describe('chained piece hashes', () => {
  const L = MIN_PIECE_LENGTH;
  const data = Buffer.alloc(3 * L + 100);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  let m: Metainfo;
  beforeAll(async () => {
    await loadSha256Chain();
    m = chained(data);
  });
  const piece = (blob: Buffer, i: number) => blob.subarray(i * L, (i + 1) * L);

  it('serialises the kind between pieceLength and pieceHashes, and gets an id of its own', () => {
    const json = serializeMetainfo(m);
    expect(
      json.startsWith(
        `{"digest":"${m.digest}","size":${m.size},"pieceLength":${L},"pieceHashing":"sha256-chain","pieceHashes":[`,
      ),
    ).toBe(true);
    expect(parseMetainfo(json)).toEqual(m);
    expect(metainfoId(m)).toBe(sha(json));
    const { pieceHashing: _kind, ...plain } = m;
    expect(metainfoId(toMetainfo(plain))).not.toBe(metainfoId(m));
  });

  it('verifies every piece from the one before it, in any order', async () => {
    for (const i of [3, 1, 0, 2]) {
      const { offset, length } = pieceRange(m, i);
      expect(await verifyPiece(m, i, data.subarray(offset, offset + length))).toBe(true);
    }
    // A piece in another's place fails, even where both pieces' bytes are genuine.
    expect(await verifyPiece(m, 1, piece(data, 2))).toBe(false);
    const flipped = Buffer.from(piece(data, 1));
    flipped[100] = (flipped[100] ?? 0) ^ 1;
    expect(await verifyPiece(m, 1, flipped)).toBe(false);
    expect(await verifyPiece(m, 3, data.subarray(3 * L, data.length - 1))).toBe(false);
  });

  it('lets a forged entry vouch for one side of it only, so no wrong blob passes whole', async () => {
    // Entry 1 forged as the state after a wrong piece 1: that wrong piece passes,
    // the genuine piece 2 after it cannot, and nothing but a preimage would.
    const wrong = Buffer.from(data);
    wrong.fill(0, L, 2 * L);
    const forged = chained(wrong).pieceHashes[1]!;
    const hostile = toMetainfo({ ...m, pieceHashes: m.pieceHashes.map((h, i) => (i === 1 ? forged : h)) });
    expect(await verifyPiece(hostile, 0, piece(data, 0))).toBe(true);
    expect(await verifyPiece(hostile, 1, piece(wrong, 1))).toBe(true);
    expect(await verifyPiece(hostile, 2, piece(data, 2))).toBe(false);
    expect(await verifyPiece(hostile, 2, piece(wrong, 2))).toBe(false);
  });

  it('refuses a chain that does not end at the digest, of a sha512 blob, or of an empty blob', () => {
    const base = { digest: m.digest, size: m.size, pieceLength: L, pieceHashing: 'sha256-chain' };
    expect(() => toMetainfo({ ...base, pieceHashes: [...m.pieceHashes.slice(0, 3), sha('x')] })).toThrow(
      'pieceHashes.3 must be the digest',
    );
    const sha512 = digestOf(data, 'sha512').value;
    expect(() => toMetainfo({ ...base, digest: sha512, pieceHashes: m.pieceHashes })).toThrow(
      'pieceHashing sha256-chain needs a sha256 digest',
    );
    expect(() => toMetainfo({ ...base, digest: digestOf('').value, size: 0, pieceHashes: [] })).toThrow(
      InvalidMetainfoError,
    );
    expect(() => toMetainfo({ ...base, pieceHashing: 'sha1-chain', pieceHashes: m.pieceHashes })).toThrow(
      InvalidMetainfoError,
    );
  });

  it('fits the largest chained metainfo within MAX_METAINFO_BYTES', () => {
    const size = MIN_PIECE_LENGTH * 8 * MAX_PIECE_COUNT;
    const big = toMetainfo({
      digest: digestOf('x').value,
      size,
      pieceLength: MIN_PIECE_LENGTH * 8,
      pieceHashing: 'sha256-chain',
      pieceHashes: [...Array.from({ length: MAX_PIECE_COUNT - 1 }, () => sha('a')), digestOf('x').hex],
    });
    expect(Buffer.byteLength(serializeMetainfo(big))).toBeLessThan(MAX_METAINFO_BYTES);
  });
});
