/**
 * The whole-blob digest of a download, computed while it downloads. Pieces arrive in any
 * order, the digest needs them in order: the cursor hashes the verified prefix of the
 * blob, piece after piece. A piece that lands exactly where the cursor stands is hashed
 * from memory, while its bytes are still at hand; the others are read back from the
 * data file once the pieces before them are in. So completing a download costs no second
 * pass over the whole file, and a client streaming the blob is not kept waiting for one
 * before its last bytes.
 *
 * The hash state lives in memory only (node's hashes cannot be saved): a resumed download
 * reads its stored pieces back once, in the background, from the start.
 */
import { createDigester, type Digest } from '@kraken/oci-content';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import { pieceRange } from '../metainfo/metainfo.js';
import { updateInSlices, SYNC_HASH_BYTES } from './piece-hashing.js';

export interface BlobDigestCursorOptions {
  readonly metainfo: Metainfo;
  readonly digest: Digest;
  /** Whether piece `index` is verified and on disk. */
  readonly has: (index: number) => boolean;
  /** Reads piece `index` from the data file into `into` (exactly its length). */
  readonly readInto: (index: number, into: Buffer) => Promise<Buffer>;
  /** Piece `index` when it is still in memory (hashed where it lies, not copied); undefined otherwise. */
  readonly peek?: ((index: number) => Uint8Array | undefined) | undefined;
  /** Read-back buffers come from here. */
  readonly buffers: PieceBufferPool;
}

export interface BlobDigestCursor {
  /** Pieces hashed so far: the cursor stands at this index. */
  readonly position: number;
  /**
   * Hashes a piece just verified and stored, from memory, when the cursor stands at it
   * and nothing else is advancing it; `data` is not kept. Small pieces only (larger ones
   * are read back in slices that let the event loop breathe). Returns whether it did.
   */
  offer(index: number, data: Uint8Array): boolean;
  /** Advances over the stored pieces after the cursor, reading them back; one run at a time. */
  advance(): Promise<void>;
  /**
   * Advances to the end and returns the whole blob's digest; throws when a piece is
   * missing or cannot be read (the caller knows every piece is stored).
   */
  finish(signal?: AbortSignal): Promise<Digest>;
  /** Stops advancing (the blob is closing); a run in flight ends after its current piece. */
  stop(): void;
}

export function createBlobDigestCursor(options: BlobDigestCursorOptions): BlobDigestCursor {
  const { metainfo, has, readInto, buffers } = options;
  const count = metainfo.pieceHashes.length;
  const whole = createDigester(options.digest.algorithm);
  let position = 0;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function run(signal: AbortSignal | undefined): Promise<void> {
    while (!stopped && position < count && has(position)) {
      signal?.throwIfAborted();
      const held = options.peek?.(position);
      if (held !== undefined && held.byteLength <= SYNC_HASH_BYTES) {
        // Hashed at once, before anything can push it out of memory.
        whole.update(held);
        position++;
        continue;
      }
      const { length } = pieceRange(metainfo, position);
      const buffer = buffers.take(metainfo.pieceLength);
      try {
        const piece = await readInto(position, buffer.subarray(0, length));
        await updateInSlices(whole, piece);
        position++;
      } finally {
        // The read has completed (or failed) and the hash is done: nothing holds it.
        buffers.give(buffer);
      }
    }
  }

  function advance(signal?: AbortSignal): Promise<void> {
    // Cleared in the run's own last step, not a callback later: a piece stored right
    // after the run found it missing must find no run to leave it to.
    running ??= (async () => {
      try {
        await run(signal);
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    get position() {
      return position;
    },

    offer(index, data) {
      if (running !== undefined || stopped || index !== position || data.byteLength > SYNC_HASH_BYTES) {
        return false;
      }
      whole.update(data);
      position++;
      return true;
    },

    advance() {
      return advance().catch(() => {
        // A piece that cannot be read back now is read again by the next run, or by
        // finish(), which reports the error.
      });
    },

    async finish(signal) {
      // A background run may hold the cursor: let it end, then go on in this caller's run.
      while (running !== undefined) await running.catch(() => undefined);
      await advance(signal);
      if (position < count) throw new Error(`piece ${position} of ${count} is not stored`);
      return whole.digest();
    },

    stop() {
      stopped = true;
    },
  };
}
