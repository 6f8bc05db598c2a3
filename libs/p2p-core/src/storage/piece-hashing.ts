/**
 * Hashing on the data path: node's own (OpenSSL, SHA extensions where the CPU has them),
 * on the event loop, over the bytes where they lie. A thread-pool hash (WebCrypto) costs
 * more than it saves here: it copies its input first, and that copy is a piece-sized
 * allocation per piece. Pieces up to SYNC_HASH_BYTES are hashed in one go (a quarter of
 * a millisecond per 512 KiB); larger ones in slices of that size, yielding to the event
 * loop between slices, so that a 64 MiB piece does not hold every other connection up.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

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

/** Lowercase hex sha256 of `data` (a piece), as metainfo lists piece hashes. */
export async function pieceSha256(data: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  await updateInSlices(hash, data);
  return hash.digest('hex');
}
