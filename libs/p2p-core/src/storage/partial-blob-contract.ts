/**
 * The contract of a partial blob (a download in progress, see partial-blob.ts) and of
 * where a completed one goes, apart from the implementation.
 */
import type { Digest } from '@kraken/oci-content';
import type { Bitfield } from './bitfield.js';
import type { Metainfo } from '../metainfo/metainfo.js';

/** Where a completed, verified blob goes: typically a content store's adopt-by-rename. */
export interface BlobAdopter {
  /**
   * Takes ownership of the verified file at `path` (on the piece store's filesystem),
   * making it visible under `digest`, normally by an atomic rename. The piece store
   * never touches `path` again once this resolves.
   */
  adopt(digest: Digest, path: string): Promise<void>;
}

export interface PartialBlob {
  readonly metainfo: Metainfo;
  readonly digest: Digest;
  has(index: number): boolean;
  /** A snapshot of the verified pieces (for a bitfield message or the scheduler). */
  bitfield(): Bitfield;
  /** True when every piece is present and complete() may run. */
  isComplete(): boolean;
  /**
   * Verifies and stores piece `index`; `data` must not change until the promise
   * settles (it is hashed, then written, without a copy). Resolves true once the
   * piece is written (readable at once, durable with the next sync round), false when
   * the piece was already held (nothing written); a failed sync round fails the next
   * write.
   * Rejects with PieceVerificationError for a wrong length or hash, leaving the
   * bitfield unchanged, and InvalidPieceIndexError for an index out of range.
   */
  writePiece(index: number, data: Uint8Array): Promise<boolean>;
  /**
   * Hands over the buffer of piece `index` once writePiece stored it: the partial blob
   * keeps the latest pieces in memory (up to `recentPieceBytes`), serves reads of them
   * from there, and gives each buffer back to the pool when it is pushed out or the blob
   * closes. The caller must not touch `data` again.
   */
  keep(index: number, data: Uint8Array): void;
  /**
   * Resolves once every piece written so far is recorded in the bitfield file (a restart
   * of the process resumes with it; after a reboot it is hashed again first); rejects
   * with the error of a failed round, which is then reported only once.
   */
  sync(): Promise<void>;
  /**
   * One verified piece, for serving to peers and clients: read into `into` when given
   * (at least the piece's length; the result is a view of it). PieceNotAvailableError
   * when not held.
   */
  readPiece(index: number, into?: Buffer): Promise<Buffer>;
  /**
   * Checks the whole blob's digest (computed as the pieces came in; the pieces not yet
   * covered are read back now), then hands the file to `destination` and
   * removes the bitfield; the handle is closed afterwards. On a digest mismatch the
   * partial blob is discarded (its pieces cannot be trusted) and DigestMismatchError
   * or SizeMismatchError is thrown; nothing becomes visible. When `adopt` fails, the
   * partial blob stays on disk and a later open() + complete() retries.
   */
  complete(destination: BlobAdopter, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Waits for in-flight writes, then closes; pieces stay for a later resume. Idempotent. */
  close(): Promise<void>;
  /** Closes and deletes the partial blob's files. */
  discard(): Promise<void>;
}
