/**
 * Metainfo: what a peer must know about a blob to fetch it from the swarm, namely
 * its digest, size, piece length and one hash per piece.
 *
 * Piece hashes come in two kinds (`pieceHashing`):
 * - absent: each entry is the sha256 of its piece alone. A download then hashes the
 *   whole blob a second time, in order, to check its digest (blob-digest-cursor.ts).
 * - `sha256-chain` (sha256 blobs): entry i is the SHA-256 chaining value after pieces
 *   0..i of the blob, and the last entry is the blob's digest itself. Piece i is checked
 *   by hashing it from entry i-1 (the initial state for piece 0): one pass per byte, in
 *   any order, and once every piece has passed, the blob hashes to its digest whatever
 *   the entries said in between, since each check ties its piece to both neighbours'
 *   values and the chain is pinned to the initial state and the digest at its ends.
 *
 * A metainfo is identified by its own sha256 (the "metainfo id", lowercase hex),
 * taken over its canonical serialisation: the UTF-8 bytes of
 * `JSON.stringify({digest, size, pieceLength, pieceHashing?, pieceHashes})` with the
 * keys in exactly that order, `pieceHashing` only when present, and no whitespace,
 * which is also what `serializeMetainfo` returns and what travels over HTTP. Peers
 * name blobs on the wire by this id, so two peers only exchange pieces when they agree
 * on the piece layout, not merely on the blob.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isDigest } from '@kraken/oci-content';
import { SHA256_INITIAL_CHAIN, loadSha256Chain, resumeSha256 } from './sha256-chain.js';
import { InvalidMetainfoError, InvalidPieceIndexError } from '../errors.js';
import {
  MAX_PIECE_COUNT,
  MAX_PIECE_LENGTH,
  MAX_SWARM_BLOB_SIZE,
  MIN_PIECE_LENGTH,
  isPowerOfTwo,
  pieceCountFor,
} from './piece-length.js';

export interface Metainfo {
  /** The blob's OCI digest (`sha256:<hex>` or `sha512:<hex>`). */
  readonly digest: string;
  /** The blob's size in bytes. */
  readonly size: number;
  /** Bytes per piece; every piece but the last is exactly this long. */
  readonly pieceLength: number;
  /** How pieceHashes are taken (see the file comment); absent: each piece's own sha256. */
  readonly pieceHashing?: PieceHashing;
  /** One lowercase hex hash per piece, in order. Empty for an empty blob. */
  readonly pieceHashes: readonly string[];
}

/** The one kind of piece hashes besides the plain one (see the file comment). */
export type PieceHashing = 'sha256-chain';

/** Byte range of one piece within its blob. */
export interface PieceRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * Upper bound on a serialised metainfo: MAX_PIECE_COUNT hashes of 64 hex chars plus
 * quotes and commas, and room for the other fields. Readers cap input at this.
 */
export const MAX_METAINFO_BYTES = 256 * 1024;

const SHA256_HEX = /^[a-f0-9]{64}$/;

/** Validating schema for metainfo parsed from JSON (e.g. an origin's HTTP answer). */
export const metainfoSchema = z
  .object({
    digest: z
      .string()
      .refine(isDigest, 'must be a sha256 or sha512 OCI digest')
      .describe('The OCI digest of the blob.'),
    size: z.number().int().min(0).max(MAX_SWARM_BLOB_SIZE).describe('Blob size in bytes.'),
    pieceLength: z
      .number()
      .int()
      .min(MIN_PIECE_LENGTH)
      .max(MAX_PIECE_LENGTH)
      .refine(isPowerOfTwo, 'must be a power of two')
      .describe('Bytes per piece (a power of two).'),
    pieceHashing: z
      .literal('sha256-chain')
      .optional()
      .describe('Absent: each entry hashes its piece alone. sha256-chain: SHA-256 chaining values.'),
    pieceHashes: z
      .array(z.string().regex(SHA256_HEX, 'must be 64 lowercase hex characters'))
      .max(MAX_PIECE_COUNT)
      .describe('One hash (lowercase hex) per piece, in order.'),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.pieceHashing === 'sha256-chain') {
      if (!m.digest.startsWith('sha256:') || m.size === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['pieceHashing'],
          message: 'sha256-chain needs a sha256 digest and at least one piece',
        });
      } else if (m.pieceHashes.length > 0 && m.pieceHashes.at(-1) !== m.digest.slice('sha256:'.length)) {
        ctx.addIssue({
          code: 'custom',
          path: ['pieceHashes', m.pieceHashes.length - 1],
          message: 'must be the digest: a chain ends at the blob digest',
        });
      }
    }
    const expected = pieceCountFor(m.size, m.pieceLength);
    if (m.pieceHashes.length !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: ['pieceHashes'],
        message: `has ${m.pieceHashes.length} entries, but size ${m.size} with pieceLength ${m.pieceLength} needs ${expected}`,
      });
    }
  });

/** Validates an already-decoded value; throws InvalidMetainfoError naming the bad field. */
export function toMetainfo(value: unknown): Metainfo {
  const result = metainfoSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'metainfo' : issue.path.join('.');
    throw new InvalidMetainfoError(`invalid metainfo: ${where} ${issue?.message ?? 'is invalid'}`, {
      detail: result.error.issues,
    });
  }
  const { digest, size, pieceLength, pieceHashing, pieceHashes } = result.data;
  return Object.freeze({
    digest,
    size,
    pieceLength,
    ...(pieceHashing === undefined ? {} : { pieceHashing }),
    pieceHashes: Object.freeze(pieceHashes),
  });
}

/** Parses serialised metainfo (JSON text or its UTF-8 bytes), capped at MAX_METAINFO_BYTES. */
export function parseMetainfo(input: string | Uint8Array): Metainfo {
  const length = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (length > MAX_METAINFO_BYTES) {
    throw new InvalidMetainfoError(`metainfo exceeds ${MAX_METAINFO_BYTES} bytes`);
  }
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidMetainfoError('metainfo is not valid JSON', { cause });
  }
  return toMetainfo(value);
}

/** The canonical serialisation (see the file comment); its sha256 is the metainfo id. */
export function serializeMetainfo(metainfo: Metainfo): string {
  const { digest, size, pieceLength, pieceHashing, pieceHashes } = metainfo;
  return pieceHashing === undefined
    ? JSON.stringify({ digest, size, pieceLength, pieceHashes })
    : JSON.stringify({ digest, size, pieceLength, pieceHashing, pieceHashes });
}

// Hashing ~140 KB of JSON per lookup would be wasteful on hot paths; metainfo
// objects are immutable, so the id is computed once per object.
const idCache = new WeakMap<Metainfo, string>();

/** The metainfo id: lowercase hex sha256 of the canonical serialisation. */
export function metainfoId(metainfo: Metainfo): string {
  let id = idCache.get(metainfo);
  if (id === undefined) {
    id = createHash('sha256').update(serializeMetainfo(metainfo)).digest('hex');
    idCache.set(metainfo, id);
  }
  return id;
}

export function pieceCount(metainfo: Metainfo): number {
  return metainfo.pieceHashes.length;
}

/** Byte range of piece `index`; throws InvalidPieceIndexError when out of range. */
export function pieceRange(metainfo: Metainfo, index: number): PieceRange {
  const count = metainfo.pieceHashes.length;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new InvalidPieceIndexError(index, count);
  }
  const offset = index * metainfo.pieceLength;
  return { offset, length: Math.min(metainfo.pieceLength, metainfo.size - offset) };
}

/** A hash of one piece, as metainfo lists it. */
export interface PieceHash {
  update(data: Uint8Array): unknown;
  /** What metainfo lists for the piece, once it was fed the whole piece; the hash is spent. */
  result(): string;
}

/**
 * A fresh hash for piece `index` of `metainfo`, of the metainfo's kind. For chained
 * metainfo, loadPieceHashing() must have resolved first.
 */
export function pieceHasher(metainfo: Metainfo, index: number): PieceHash {
  if (metainfo.pieceHashing !== 'sha256-chain') {
    const hash = createHash('sha256');
    return { update: (data) => hash.update(data), result: () => hash.digest('hex') };
  }
  const { offset } = pieceRange(metainfo, index);
  const last = index === metainfo.pieceHashes.length - 1;
  const chain = resumeSha256(index === 0 ? SHA256_INITIAL_CHAIN : metainfo.pieceHashes[index - 1]!, offset);
  return { update: (data) => chain.update(data), result: () => (last ? chain.digest() : chain.chainValue()) };
}

/** Readies what pieceHasher needs for this metainfo's kind (chains load their binding once). */
export function loadPieceHashing(metainfo: Metainfo): Promise<void> {
  return metainfo.pieceHashing === 'sha256-chain' ? loadSha256Chain() : Promise.resolve();
}

/** True when `data` is exactly piece `index` (right length and hash). */
export async function verifyPiece(metainfo: Metainfo, index: number, data: Uint8Array): Promise<boolean> {
  const { length } = pieceRange(metainfo, index);
  if (data.byteLength !== length) return false;
  await loadPieceHashing(metainfo);
  const hash = pieceHasher(metainfo, index);
  hash.update(data);
  return hash.result() === metainfo.pieceHashes[index];
}
