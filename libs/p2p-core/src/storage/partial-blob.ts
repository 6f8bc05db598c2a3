/**
 * One partial blob: the open data file and bitfield of a download in progress, as
 * handed out by the piece store. Pieces are verified and written with positional
 * writes (so different pieces may be written concurrently); rounds of one data sync and
 * one atomic bitfield write then make them durable, the bitfield never claiming a
 * piece written after the sync. Completion syncs and re-hashes the whole file before
 * the caller's content store may adopt it.
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { webcrypto } from 'node:crypto';
import { DigestVerifyStream, type Digest } from '@kraken/oci-content';
import { KrakenError } from '@kraken/foundation';
import { createBitfield, type Bitfield } from './bitfield.js';
import {
  decodeBitfieldFile,
  encodeBitfieldFile,
  isMissing,
  readOptionalFile,
  writeFileAtomic,
  type PieceStoreFileSystem,
} from './bitfield-file.js';
import {
  PartialBlobClosedError,
  PartialBlobIncompleteError,
  PieceNotAvailableError,
  PieceVerificationError,
} from '../errors.js';
import { pieceRange, type Metainfo } from '../metainfo/metainfo.js';

const VERIFY_CHUNK_BYTES = 1024 * 1024;

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
   * Resolves once every piece written so far is durable (a restart resumes with it);
   * rejects with the error of a failed sync round, which is then reported only once.
   */
  sync(): Promise<void>;
  /** One verified piece, for serving to peers; PieceNotAvailableError when not held. */
  readPiece(index: number): Promise<Buffer>;
  /**
   * Re-hashes the whole file against the digest, then hands it to `destination` and
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

/**
 * Opens (creating or resuming) the partial blob of an already validated metainfo,
 * with files `<dir>/<digest hex>.{data,bitfield}`.
 */
export async function openPartialBlob(options: {
  fs: PieceStoreFileSystem;
  dir: string;
  metainfo: Metainfo;
  digest: Digest;
  /** Called as closing starts, with the promise of its end. */
  onClose: (closed: Promise<void>) => void;
}): Promise<PartialBlob> {
  const { fs, dir, metainfo, digest } = options;
  const dataPath = join(dir, `${digest.hex}.data`);
  const bitfieldPath = join(dir, `${digest.hex}.bitfield`);
  const pieceCount = metainfo.pieceHashes.length;

  await fs.mkdir(dir, { recursive: true });
  const stored = await readOptionalFile(fs, bitfieldPath);
  let loaded = stored === undefined ? undefined : decodeBitfieldFile(metainfo, stored);
  const file = await openDataFile(fs, dataPath);
  let bits: Bitfield;
  try {
    const { size } = await file.stat();
    // The bits only describe a data file of the full size; a missing or short file
    // (deleted, or truncated by a crash before preallocation) means starting over.
    if (size !== metainfo.size) {
      loaded = undefined;
      await file.truncate(metainfo.size);
    }
    bits = loaded ?? createBitfield(pieceCount);
    // A stale file must never outlive this point: were we to crash before the first
    // piece persisted, it would otherwise claim pieces of a fresh, empty data file.
    if (loaded === undefined) {
      await file.sync();
      await writeFileAtomic(fs, { path: bitfieldPath, dir, data: encodeBitfieldFile(metainfo, bits) });
    }
  } catch (err) {
    await file.close();
    throw err;
  }

  let closed = false;
  let closing: Promise<void> | undefined;
  let completing: Promise<void> | undefined;
  const writing = new Map<number, Promise<void>>();
  const active = new Set<Promise<unknown>>();
  let generation = 0;
  let durable = 0;
  let flushing: Promise<void> | undefined;
  /** A failed flush round fails the next write: the disk is not taking our pieces. */
  let flushError: unknown;

  function assertOpen(): void {
    if (closed) throw new PartialBlobClosedError(digest.value);
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    active.add(promise);
    const forget = () => active.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  // Makes the verified pieces durable in rounds: one data sync, then one atomic bitfield
  // write claiming only the pieces written before that sync. Pieces arriving meanwhile
  // wait for the next round, so a fast download costs a few syncs per second, not one
  // per piece; a crash loses at most the pieces of the round in flight.
  function flush(): Promise<void> {
    if (flushing === undefined && durable < generation) {
      flushing = (async () => {
        while (durable < generation) {
          const target = generation;
          const snapshot = encodeBitfieldFile(metainfo, bits);
          await file.datasync();
          await writeFileAtomic(fs, { path: bitfieldPath, dir, data: snapshot });
          durable = target;
        }
      })()
        .catch((err: unknown) => {
          flushError ??= err;
        })
        .finally(() => {
          flushing = undefined;
        });
    }
    return flushing ?? Promise.resolve();
  }

  /** Reports a failed sync round once; the next round retries the pieces it missed. */
  function takeFlushError(): void {
    if (flushError === undefined) return;
    const err = flushError;
    flushError = undefined;
    throw err;
  }

  async function store(index: number, data: Uint8Array, offset: number): Promise<void> {
    takeFlushError();
    for (let done = 0; done < data.byteLength;) {
      const { bytesWritten } = await file.write(data, done, data.byteLength - done, offset + done);
      done += bytesWritten;
    }
    // Readable (and servable to peers) at once; durable with the next flush round.
    bits.set(index);
    generation++;
    void track(flush());
  }

  async function finish(): Promise<void> {
    if (closed) return;
    closed = true;
    await Promise.allSettled([...active]);
    await flush().catch(() => undefined);
    await file.close();
  }

  function close(): Promise<void> {
    if (closing === undefined) {
      closing = finish();
      options.onClose(closing);
    }
    return closing;
  }

  async function writePiece(index: number, data: Uint8Array): Promise<boolean> {
    const range = pieceRange(metainfo, index);
    // Verified even when already held, so a peer sending garbage during the endgame
    // is still caught and can be blacklisted.
    if (data.byteLength !== range.length) {
      throw new PieceVerificationError(index, 'size', { expected: range.length, actual: data.byteLength });
    }
    if ((await sha256Hex(data)) !== metainfo.pieceHashes[index]) {
      throw new PieceVerificationError(index, 'hash');
    }
    if (bits.has(index)) return false;
    const pending = writing.get(index);
    if (pending !== undefined) {
      // Same verified bytes already on their way to the same offset.
      await pending;
      return false;
    }
    const stored = store(index, data, range.offset);
    writing.set(index, stored);
    try {
      await stored;
    } finally {
      writing.delete(index);
    }
    return true;
  }

  async function verifyFile(signal: AbortSignal | undefined): Promise<void> {
    const reader = await fs.open(dataPath, 'r');
    const verifier = new DigestVerifyStream({ expected: digest, expectedSize: metainfo.size });
    await pipeline(
      reader.createReadStream({ highWaterMark: VERIFY_CHUNK_BYTES }),
      verifier,
      new Writable({ write: (_chunk, _encoding, callback) => callback() }),
      signal === undefined ? {} : { signal },
    );
  }

  const partial: PartialBlob = {
    metainfo,
    digest,
    has: (index) => bits.has(index),
    bitfield: () => bits.clone(),
    isComplete: () => bits.complete(),

    writePiece(index, data) {
      try {
        assertOpen();
      } catch (err) {
        return Promise.reject(err);
      }
      // Tracked from the start, so close() also waits for a piece still being hashed.
      return track(writePiece(index, data));
    },

    async sync() {
      while (durable < generation && flushError === undefined) await flush();
      takeFlushError();
    },

    async readPiece(index) {
      assertOpen();
      const range = pieceRange(metainfo, index);
      if (!bits.has(index)) throw new PieceNotAvailableError(index);
      return track(readAt(file, range.offset, range.length, index));
    },

    complete(destination, completeOptions = {}) {
      // A second caller joins the first: adopting the same file twice cannot work.
      completing ??= completeOnce(destination, completeOptions.signal).finally(() => {
        completing = undefined;
      });
      return completing;
    },

    close,

    async discard() {
      await close();
      await fs.rm(dataPath, { force: true });
      await fs.rm(bitfieldPath, { force: true });
    },
  };

  async function completeOnce(destination: BlobAdopter, signal: AbortSignal | undefined): Promise<void> {
    assertOpen();
    if (!bits.complete()) throw new PartialBlobIncompleteError(digest.value, pieceCount - bits.count());
    try {
      await track(verifyFile(signal));
    } catch (err) {
      if (
        err instanceof KrakenError &&
        (err.code === 'KRAKEN_DIGEST_MISMATCH' || err.code === 'KRAKEN_SIZE_MISMATCH')
      ) {
        await partial.discard();
      }
      throw err;
    }
    await close();
    await destination.adopt(digest, dataPath);
    await fs.rm(bitfieldPath, { force: true });
  }

  return partial;
}

async function openDataFile(fs: PieceStoreFileSystem, path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, 'r+');
  } catch (err) {
    if (!isMissing(err)) throw err;
    return fs.open(path, 'w+');
  }
}

// WebCrypto hashes on the libuv thread pool, so verifying a multi-MiB piece does not
// stall the event loop that serves every other connection.
async function sha256Hex(data: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', data)).toString('hex');
}

async function readAt(file: FileHandle, offset: number, length: number, index: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  for (let done = 0; done < length;) {
    const { bytesRead } = await file.read(buffer, done, length - done, offset + done);
    // Only an outside truncation can get here: the bits say the piece is on disk.
    if (bytesRead === 0) throw new PieceNotAvailableError(index);
    done += bytesRead;
  }
  return buffer;
}
