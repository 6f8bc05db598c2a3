/**
 * Metainfo generation from a blob's byte stream. Pieces are hashed incrementally as
 * bytes flow, so nothing is buffered (not even one piece), and the whole-blob digest
 * is verified in the same pass: metainfo is never produced for content that does not
 * match the digest it will be published under. Chained piece hashes (the default for
 * sha256 blobs) are the digest's own run read out at each piece boundary, so they cost
 * one hash of the blob, not two.
 */
import { createHash, type Hash } from 'node:crypto';
import { DigestMismatchError, SizeMismatchError, createDigester, parseDigest } from '@kraken/oci-content';
import { InvalidMetainfoError } from '../errors.js';
import { toMetainfo, type Metainfo, type PieceHashing } from './metainfo.js';
import { pieceLengthFor } from './piece-length.js';
import { SHA256_INITIAL_CHAIN, loadSha256Chain, resumeSha256 } from './sha256-chain.js';

export interface GenerateMetainfoOptions {
  /** The digest the content must hash to. */
  digest: string;
  /** The exact size the content must have. */
  size: number;
  /** Overrides the policy of pieceLengthFor (tests, migrations); must still be valid. */
  pieceLength?: number;
  /**
   * `sha256-chain` (the default for a non-empty sha256 blob) or `sha256` for plain piece
   * hashes, which peers that predate chains can read (metainfo.ts).
   */
  pieceHashing?: PieceHashing | 'sha256';
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
  const hashing = options.pieceHashing ?? (expected.algorithm === 'sha256' ? 'sha256-chain' : 'sha256');
  // An empty blob has no piece to chain; its plain metainfo lists none either.
  if (hashing === 'sha256-chain' && size > 0) {
    if (expected.algorithm !== 'sha256' || pieceLength % 64 !== 0) {
      throw new InvalidMetainfoError(`sha256-chain needs a sha256 digest and whole 64-byte blocks per piece`);
    }
    return generateChained(source, expected.value, size, pieceLength);
  }
  const blob = createDigester(expected.algorithm);
  const pieceHashes: string[] = [];
  let piece: Hash = createHash('sha256');
  for await (const { slice, endsPiece } of pieceSlices(source, size, pieceLength)) {
    blob.update(slice);
    piece.update(slice);
    if (endsPiece) {
      pieceHashes.push(piece.digest('hex'));
      piece = createHash('sha256');
    }
  }
  if (size % pieceLength > 0) pieceHashes.push(piece.digest('hex'));
  const actual = blob.digest();
  if (actual.value !== expected.value) throw new DigestMismatchError(expected.value, actual.value);
  // Runs the same validation as parsed metainfo, so a bad pieceLength override or a
  // size past the swarm limit cannot yield metainfo that peers would refuse.
  return toMetainfo({ digest: expected.value, size, pieceLength, pieceHashes });
}

/** Chained metainfo: one sha256 run over the blob, its chaining value read at each piece's end. */
async function generateChained(
  source: AsyncIterable<Uint8Array>,
  digest: string,
  size: number,
  pieceLength: number,
): Promise<Metainfo> {
  await loadSha256Chain();
  const run = resumeSha256(SHA256_INITIAL_CHAIN, 0);
  const pieceHashes: string[] = [];
  for await (const { slice, endsPiece } of pieceSlices(source, size, pieceLength)) {
    run.update(slice);
    // The last piece's entry is the digest, read below.
    if (endsPiece && run.bytes < size) pieceHashes.push(run.chainValue());
  }
  const actual = `sha256:${run.digest()}`;
  if (actual !== digest) throw new DigestMismatchError(digest, actual);
  pieceHashes.push(actual.slice('sha256:'.length));
  return toMetainfo({ digest, size, pieceLength, pieceHashing: 'sha256-chain', pieceHashes });
}

/**
 * The source's bytes as views cut at piece boundaries (a chunk may straddle any number of
 * them; nothing is copied or kept), each saying whether it ends a full piece. Throws
 * SizeMismatchError as soon as more than `size` bytes arrive, and when fewer did.
 */
async function* pieceSlices(
  source: AsyncIterable<Uint8Array>,
  size: number,
  pieceLength: number,
): AsyncGenerator<{ slice: Uint8Array; endsPiece: boolean }> {
  let bytes = 0;
  for await (const chunk of source) {
    if (bytes + chunk.byteLength > size) throw new SizeMismatchError(size, bytes + chunk.byteLength);
    let at = 0;
    while (at < chunk.byteLength) {
      const take = Math.min(pieceLength - (bytes % pieceLength), chunk.byteLength - at);
      bytes += take;
      yield { slice: chunk.subarray(at, at + take), endsPiece: bytes % pieceLength === 0 };
      at += take;
    }
  }
  if (bytes !== size) throw new SizeMismatchError(size, bytes);
}
