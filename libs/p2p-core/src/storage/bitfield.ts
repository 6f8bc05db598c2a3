/**
 * Which pieces of a blob a peer holds, one bit per piece, packed MSB-first as in
 * BitTorrent: piece 0 is the high bit of byte 0. This is both the in-memory state of a
 * partial download and the payload exchanged with peers, so decoding validates
 * strictly: a wrong byte length or a set spare bit in the last byte is an error, not
 * something to mask away, because it means the sender disagrees about the blob.
 */
import { InvalidBitfieldError, InvalidPieceIndexError } from '../errors.js';

export interface Bitfield {
  /** Number of pieces (bits that carry meaning). */
  readonly length: number;
  has(index: number): boolean;
  /** Marks a piece; returns false when it was already set. */
  set(index: number): boolean;
  /** Number of set bits; O(1). */
  count(): number;
  /** True when every piece is set (also for a zero-piece blob). */
  complete(): boolean;
  /** Indexes of unset pieces, ascending. Iterates a live view: do not mutate while iterating. */
  missing(): IterableIterator<number>;
  /** Indexes of set pieces, ascending. */
  present(): IterableIterator<number>;
  /** A copy of the packed bytes (spare bits zero), ready to send or persist. */
  toBuffer(): Uint8Array;
  clone(): Bitfield;
}

/** Bytes needed to pack `length` bits. */
export function bitfieldByteLength(length: number): number {
  return Math.ceil(length / 8);
}

/** An empty bitfield of `length` pieces. */
export function createBitfield(length: number): Bitfield {
  assertLength(length);
  return wrap(length, new Uint8Array(bitfieldByteLength(length)), 0);
}

/**
 * Decodes packed bytes for a blob of `length` pieces. Rejects with InvalidBitfieldError
 * when the byte length is not exactly ceil(length / 8) or a spare bit is set. The bytes
 * are copied, so the caller may reuse its buffer.
 */
export function bitfieldFromBuffer(length: number, bytes: Uint8Array): Bitfield {
  assertLength(length);
  const expected = bitfieldByteLength(length);
  if (bytes.byteLength !== expected) {
    throw new InvalidBitfieldError(
      `bitfield has ${bytes.byteLength} bytes, expected ${expected} for ${length} pieces`,
    );
  }
  const spare = expected * 8 - length;
  if (spare > 0) {
    const last = bytes[expected - 1] ?? 0;
    if ((last & ((1 << spare) - 1)) !== 0) throw new InvalidBitfieldError('bitfield has spare bits set');
  }
  const copy = new Uint8Array(bytes);
  let count = 0;
  for (const byte of copy) count += POPCOUNT[byte] ?? 0;
  return wrap(length, copy, count);
}

function wrap(length: number, bits: Uint8Array, initialCount: number): Bitfield {
  let count = initialCount;

  function check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= length)
      throw new InvalidPieceIndexError(index, length);
  }

  function isSet(index: number): boolean {
    return ((bits[index >>> 3] ?? 0) & (0x80 >>> (index & 7))) !== 0;
  }

  function* scan(wanted: boolean): IterableIterator<number> {
    // Skip whole bytes that hold nothing of interest; a mostly complete (or mostly
    // empty) field is the common case when looking for what is left.
    const skip = wanted ? 0x00 : 0xff;
    for (let byte = 0; byte < bits.length; byte++) {
      if (bits[byte] === skip && (byte + 1) * 8 <= length) continue;
      const end = Math.min(length, (byte + 1) * 8);
      for (let index = byte * 8; index < end; index++) if (isSet(index) === wanted) yield index;
    }
  }

  return {
    length,
    has(index) {
      check(index);
      return isSet(index);
    },
    set(index) {
      check(index);
      if (isSet(index)) return false;
      bits[index >>> 3] = (bits[index >>> 3] ?? 0) | (0x80 >>> (index & 7));
      count++;
      return true;
    },
    count: () => count,
    complete: () => count === length,
    missing: () => scan(false),
    present: () => scan(true),
    toBuffer: () => new Uint8Array(bits),
    clone: () => wrap(length, new Uint8Array(bits), count),
  };
}

function assertLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new InvalidBitfieldError(`bitfield length must be a non-negative integer, got ${length}`);
  }
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
});
