/**
 * The 64-bit hash behind rendezvous scores. A key is hashed once per lookup
 * (FNV-1a 64 over its UTF-16 code units, then murmur3's fmix64 finalizer); each
 * node contributes a precomputed 64-bit seed hashed the same way from its id, and
 * the score input is fmix64(keyHash XOR nodeSeed). fmix64 is a bijection with full
 * avalanche, so a fixed seed difference between two nodes yields scores that behave
 * as independent uniforms: this is a hash of (nodeId, key) without re-hashing the
 * node id on every lookup.
 *
 * Everything is done in two 32-bit halves so that the hot path allocates nothing
 * (BigInt arithmetic would allocate on every operation). Results land in the
 * module-level `hi`/`lo` pair, read right after each call; JavaScript is
 * single-threaded and no call here yields, so the pair cannot be clobbered.
 */

let hi = 0;
let lo = 0;

const TWO_16 = 0x1_0000;
const TWO_32 = 0x1_0000_0000;
const TWO_52 = 2 ** 52;

/** (hi, lo) = (ah:al * bh:bl) mod 2^64, exact. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33, exact in a double
  const low = a0 * b0 + (mid & 0xffff) * TWO_16; // < 2^33; & takes mid mod 2^16 even past 2^32
  lo = low >>> 0;
  const carry = Math.floor(low / TWO_32);
  hi = (a1 * b1 + Math.floor(mid / TWO_16) + carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** murmur3 fmix64 on (h, l); result in (hi, lo). */
function fmix64(h: number, l: number): void {
  l = (l ^ (h >>> 1)) >>> 0;
  mul64(h, l, 0xff51afd7, 0xed558ccd);
  h = hi;
  l = (lo ^ (h >>> 1)) >>> 0;
  mul64(h, l, 0xc4ceb9fe, 0x1a85ec53);
  lo = (lo ^ (hi >>> 1)) >>> 0;
}

/** Hashes a string to 64 bits; result in (hi, lo). */
function hashString(input: string): void {
  let h = 0xcbf29ce4;
  let l = 0x84222325;
  for (let i = 0; i < input.length; i++) {
    l = (l ^ input.charCodeAt(i)) >>> 0;
    // Multiply by the FNV prime 2^40 + 0x1b3 without a general 64-bit multiply:
    // l * 0x1b3 < 2^41 is exact, and the 2^40 term only shifts l into the high half.
    const product = l * 0x1b3;
    h = (Math.imul(h, 0x1b3) + Math.floor(product / TWO_32) + (l << 8)) >>> 0;
    l = product >>> 0;
  }
  fmix64(h, l);
}

/** A 64-bit hash as two unsigned 32-bit halves. */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
}

/** Hashes a node id once, when the ring is built. */
export function nodeSeed(nodeId: string): Hash64 {
  hashString(nodeId);
  return { hi, lo };
}

/**
 * Per-lookup key hasher: `hashKey` stores the key's hash, then `unitScore(seed)`
 * maps (key, node) to a uniform number strictly inside (0, 1), as the weighted
 * rendezvous formula -w / ln(u) needs (u = 0 or 1 would give 0 or infinity).
 */
export interface KeyHasher {
  hashKey(key: string): void;
  unitScore(seedHi: number, seedLo: number): number;
}

export function createKeyHasher(): KeyHasher {
  let keyHi = 0;
  let keyLo = 0;
  return {
    hashKey(key) {
      hashString(key);
      keyHi = hi;
      keyLo = lo;
    },
    unitScore(seedHi, seedLo) {
      fmix64((keyHi ^ seedHi) >>> 0, (keyLo ^ seedLo) >>> 0);
      // Top 52 bits, offset by half a step so the result is never 0 nor 1. (With
      // 53 bits, the largest value plus one half would round up to exactly 1.)
      return ((hi >>> 0) * 0x10_0000 + (lo >>> 12) + 0.5) / TWO_52;
    },
  };
}
