/**
 * Hashing on the data path: OpenSSL's (SHA extensions where the CPU has them), through node,
 * on the event loop, over the bytes where they lie. A thread-pool hash (WebCrypto) costs
 * more than it saves here: it copies its input first, and that copy is a piece-sized
 * allocation per piece. Pieces up to SYNC_HASH_BYTES are hashed in one go (a quarter of
 * a millisecond per 512 KiB); larger ones in slices of that size, yielding to the event
 * loop between slices, so that a 64 MiB piece does not hold every other connection up.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pieceHasher, type Metainfo } from '../metainfo/metainfo.js';

/** Bytes hashed without yielding to the event loop. */
export const SYNC_HASH_BYTES = 4 * 1024 * 1024;

/** Feeds `data` to `hash`, in slices with yields in between when it is large. */
export async function updateInSlices(
  hash: { update(data: Uint8Array): unknown },
  data: Uint8Array,
): Promise<void> {
  if (data.byteLength <= SYNC_HASH_BYTES) {
    hash.update(data);
    return;
  }
  for (let at = 0; at < data.byteLength; at += SYNC_HASH_BYTES) {
    if (at > 0) await yieldToLoop();
    hash.update(data.subarray(at, at + SYNC_HASH_BYTES));
  }
}

/**
 * Whether `data` (exactly piece `index`'s length) hashes to what metainfo lists for the
 * piece; loadPieceHashing(metainfo) has resolved.
 */
export async function pieceMatches(metainfo: Metainfo, index: number, data: Uint8Array): Promise<boolean> {
  const hash = pieceHasher(metainfo, index);
  await updateInSlices(hash, data);
  return hash.result() === metainfo.pieceHashes[index];
}
