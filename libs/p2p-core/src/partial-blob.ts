/**
 * One partial blob: the open data file and bitfield of a download in progress, as
 * handed out by the piece store. Pieces are verified, written with positional writes
 * (so different pieces may be written concurrently), synced, and only then marked in
 * a bitfield that is persisted atomically; completion re-hashes the whole file before
 * the caller's content store may adopt it.
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { webcrypto } from 'node:crypto';
import { DigestVerifyStream, KrakenError, type Digest } from '@kraken/oci-content';
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
} from './errors.js';
import { pieceRange, type Metainfo } from './metainfo.js';

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
   * settles (it is hashed, then written, without a copy). Resolves true once the piece is on disk and the
   * bitfield persisted, false when the piece was already held (nothing written).
   * Rejects with PieceVerificationError for a wrong length or hash, leaving the
   * bitfield unchanged, and InvalidPieceIndexError for an index out of range.
   */
  writePiece(index: number, data: Uint8Array): Promise<boolean>;
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

  function assertOpen(): void {
    if (closed) throw new PartialBlobClosedError(digest.value);
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    active.add(promise);
    const forget = () => active.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  // Persists the bitfield until the durable copy includes every set bit. Concurrent
  // callers share one writer loop, so bursts of pieces cost few file replacements.
  function flush(): Promise<void> {
    if (flushing === undefined && durable < generation) {
      flushing = (async () => {
        while (durable < generation) {
          const target = generation;
          await writeFileAtomic(fs, { path: bitfieldPath, dir, data: encodeBitfieldFile(metainfo, bits) });
          durable = target;
        }
      })().finally(() => {
        flushing = undefined;
      });
    }
    return flushing ?? Promise.resolve();
  }

  async function persistThrough(target: number): Promise<void> {
    while (durable < target) await flush();
  }

  async function store(index: number, data: Uint8Array, offset: number): Promise<void> {
    for (let done = 0; done < data.byteLength;) {
      const { bytesWritten } = await file.write(data, done, data.byteLength - done, offset + done);
      done += bytesWritten;
    }
    // The data must be durable before any persisted bitfield claims it.
    await file.datasync();
    bits.set(index);
    await persistThrough(++generation);
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
