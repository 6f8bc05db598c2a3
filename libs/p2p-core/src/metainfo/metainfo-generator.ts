/**
 * Metainfo generation from a blob's byte stream. Pieces are hashed incrementally as
 * bytes flow, so nothing is buffered (not even one piece), and the whole-blob digest
 * is verified in the same pass: metainfo is never produced for content that does not
 * match the digest it will be published under.
 */
import { createHash, type Hash } from 'node:crypto';
import { DigestMismatchError, SizeMismatchError, createDigester, parseDigest } from '@kraken/oci-content';
import { InvalidMetainfoError } from '../errors.js';
import { toMetainfo, type Metainfo } from './metainfo.js';
import { pieceLengthFor } from './piece-length.js';

export interface GenerateMetainfoOptions {
  /** The digest the content must hash to. */
  digest: string;
  /** The exact size the content must have. */
  size: number;
  /** Overrides the policy of pieceLengthFor (tests, migrations); must still be valid. */
  pieceLength?: number;
}

/**
 * Reads `source` to its end (a Readable works) and returns its metainfo. Rejects with
 * SizeMismatchError as soon as more than `size` bytes arrive or when fewer arrive,
 * with DigestMismatchError when the content does not hash to `digest`, and with
 * InvalidDigestError / InvalidMetainfoError for bad options.
 */
export async function generateMetainfo(
  source: AsyncIterable<Uint8Array>,
  options: GenerateMetainfoOptions,
): Promise<Metainfo> {
  const expected = parseDigest(options.digest);
  const { size } = options;
  const pieceLength = options.pieceLength ?? pieceLengthFor(size);
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
    throw new InvalidMetainfoError(`invalid piece length ${pieceLength}`);
  }
  const blob = createDigester(expected.algorithm);
  const pieceHashes: string[] = [];
  let piece: Hash = createHash('sha256');
  let pieceFill = 0;

  for await (const chunk of source) {
    if (blob.bytes + chunk.byteLength > size) {
      throw new SizeMismatchError(size, blob.bytes + chunk.byteLength);
    }
    blob.update(chunk);
    // A chunk may straddle any number of piece boundaries; hash views, never copies.
    let at = 0;
    while (at < chunk.byteLength) {
      const take = Math.min(pieceLength - pieceFill, chunk.byteLength - at);
      piece.update(chunk.subarray(at, at + take));
      at += take;
      pieceFill += take;
      if (pieceFill === pieceLength) {
        pieceHashes.push(piece.digest('hex'));
        piece = createHash('sha256');
        pieceFill = 0;
      }
    }
  }

  if (blob.bytes !== size) throw new SizeMismatchError(size, blob.bytes);
  if (pieceFill > 0) pieceHashes.push(piece.digest('hex'));
  const actual = blob.digest();
  if (actual.value !== expected.value) throw new DigestMismatchError(expected.value, actual.value);
  // Runs the same validation as parsed metainfo, so a bad pieceLength override or a
  // size past the swarm limit cannot yield metainfo that peers would refuse.
  return toMetainfo({ digest: expected.value, size, pieceLength, pieceHashes });
}
