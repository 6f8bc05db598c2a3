/**
 * One partial blob: the open data file and bitfield of a download in progress, as
 * handed out by the piece store. Pieces are verified and written with positional
 * writes (so different pieces may be written concurrently), and the bitfield is
 * rewritten atomically in paced rounds (bitfield-rounds.ts). Pieces are not synced as they come: the page
 * cache keeps them through a crash of the process, and after a crash of the machine
 * (another boot id in the bitfield, boot-id.ts) the pieces it claims are hashed again
 * on resume. So no sync sits on the data path; the complete blob is synced once,
 * after its digest verified and before the content store adopts it, so that the cache
 * never holds a blob a power cut could tear. With chained piece hashes (metainfo.ts) the
 * pieces' checks are the digest's check. With plain ones, the whole blob's digest is
 * computed as the verified prefix grows (blob-digest-cursor.ts), and checked before the
 * caller's content store may adopt the file. It is computed over the bytes as they were
 * verified and written (from memory while they are at hand, else read back): like the
 * piece hashes, it checks what the peers sent, and the filesystem is trusted to keep what
 * was written, as it is for every read of the blob after adoption.
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DigestMismatchError, SizeMismatchError, type Digest } from '@kraken/oci-content';
import { KrakenError, systemClock, type Clock } from '@kraken/foundation';
import { createPieceBufferPool, type PieceBufferPool } from '../buffers/piece-buffer-pool.js';
import { createBlobDigestCursor } from './blob-digest-cursor.js';
import { createBitfieldRounds } from './bitfield-rounds.js';
import { pieceMatches } from './piece-hashing.js';
import { readAt } from './piece-reader.js';
import { createRecentPieces } from './recent-pieces.js';
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
import { loadPieceHashing, pieceRange, type Metainfo } from '../metainfo/metainfo.js';

import type { BlobAdopter, PartialBlob } from './partial-blob-contract.js';
export type { BlobAdopter, PartialBlob } from './partial-blob-contract.js';

/**
 * Largest write into the data file. The page cache sizes its folios by the write (ext4
 * and XFS on Linux 6.x), and a large folio comes from a large free block, which is the
 * memory a virtual machine has most likely handed back to its host: the copy then waits
 * for the host to fault it in again. Pieces written in 128 KiB slices instead of whole
 * (512 KiB for a 1 GiB blob) cut the system time of a swarm download by about a third,
 * and its CPU per GiB by 10-20% (bench/README.md); slices of 16 or 64 KiB cost more in
 * write calls than they save.
 */
export const WRITE_SLICE_BYTES = 128 * 1024;

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
  /** Buffers for reading pieces back (the digest's pass); a pool of its own by default. */
  buffers?: PieceBufferPool | undefined;
  /** Bytes of verified pieces kept in memory once written (`keep`); none by default. */
  recentPieceBytes?: number | undefined;
  /** Least time between two bitfield writes started by writes (ms, default 0). */
  syncIntervalMs?: number | undefined;
  /** This boot's id (boot-id.ts); undefined when unknown: a resume then hashes its pieces again. */
  bootId?: string | undefined;
  clock?: Clock | undefined;
}): Promise<PartialBlob> {
  const { fs, dir, metainfo, digest } = options;
  const buffers = options.buffers ?? createPieceBufferPool({ maxPooledBytes: 2 * metainfo.pieceLength });
  const dataPath = join(dir, `${digest.hex}.data`);
  const bitfieldPath = join(dir, `${digest.hex}.bitfield`);
  const pieceCount = metainfo.pieceHashes.length;
  // Once per blob, not per piece: chained hashes need their binding before any check.
  await loadPieceHashing(metainfo);

  const { bootId } = options;
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
    const trusted = loaded?.holdsIn(bootId) === true;
    bits =
      loaded === undefined
        ? createBitfield(pieceCount)
        : trusted
          ? loaded.bits
          : await reverified(loaded.bits);
    // A stale file must never outlive this point, nor one from another boot: rewritten
    // at once, it claims only pieces of this data file that hashed right in this boot.
    if (!trusted) {
      await writeFileAtomic(fs, {
        path: bitfieldPath,
        dir,
        data: encodeBitfieldFile(metainfo, bits, bootId),
        durable: false,
      });
    }
  } catch (err) {
    await file.close();
    throw err;
  }

  /** The pieces of `claimed` whose bytes on disk still hash right (after a reboot, say). */
  async function reverified(claimed: Bitfield): Promise<Bitfield> {
    const held = createBitfield(pieceCount);
    const scratch = buffers.take(metainfo.pieceLength);
    try {
      for (const index of claimed.present()) {
        const range = pieceRange(metainfo, index);
        const piece = scratch.subarray(0, range.length);
        try {
          await readAt(file, range.offset, piece);
        } catch (err) {
          if (err instanceof SizeMismatchError) continue;
          throw err;
        }
        if (await pieceMatches(metainfo, index, piece)) held.set(index);
      }
    } finally {
      buffers.give(scratch);
    }
    return held;
  }

  let closed = false;
  let closing: Promise<void> | undefined;
  let completing: Promise<void> | undefined;
  const writing = new Map<number, Promise<void>>();
  const active = new Set<Promise<unknown>>();
  function assertOpen(): void {
    if (closed) throw new PartialBlobClosedError(digest.value);
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    active.add(promise);
    const forget = () => active.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  const rounds = createBitfieldRounds({
    write: () =>
      writeFileAtomic(fs, {
        path: bitfieldPath,
        dir,
        data: encodeBitfieldFile(metainfo, bits, bootId),
        durable: false,
      }),
    clock: options.clock ?? systemClock,
    intervalMs: options.syncIntervalMs ?? 0,
    track: (round) => void track(round),
  });

  async function store(index: number, data: Uint8Array, offset: number): Promise<void> {
    rounds.takeError();
    for (let done = 0; done < data.byteLength;) {
      const length = Math.min(WRITE_SLICE_BYTES, data.byteLength - done);
      const { bytesWritten } = await file.write(data, done, length, offset + done);
      done += bytesWritten;
    }
    // Readable (and servable to peers) at once; recorded with the next round.
    bits.set(index);
    rounds.written();
    // While its bytes are at hand: the whole digest may go on from here.
    if (cursor !== undefined && (cursor.offer(index, data) || index === cursor.position)) {
      void track(cursor.advance());
    }
  }

  const recent = createRecentPieces({ maxBytes: options.recentPieceBytes ?? 0, buffers });

  /** Piece `index` into `into`, which is exactly its length: from memory when held there, else the data file. */
  async function readStored(index: number, into: Buffer): Promise<Buffer> {
    const held = recent.copy(index, into);
    if (held !== undefined) return held;
    try {
      return await readAt(file, pieceRange(metainfo, index).offset, into);
    } catch (err) {
      // Only an outside truncation gets here: the bits say the piece is on disk.
      if (err instanceof SizeMismatchError) throw new PieceNotAvailableError(index);
      throw err;
    }
  }

  // Chained piece hashes need no pass of their own for the digest.
  const cursor =
    metainfo.pieceHashing === 'sha256-chain'
      ? undefined
      : createBlobDigestCursor({
          metainfo,
          digest,
          has: (index) => bits.has(index),
          readInto: readStored,
          peek: (index) => recent.peek(index),
          buffers,
        });
  // A resumed download hashes the pieces it already holds, in the background.
  if (cursor !== undefined && pieceCount > 0 && bits.has(0)) void track(cursor.advance());

  async function finish(): Promise<void> {
    if (closed) return;
    closed = true;
    rounds.stop();
    cursor?.stop();
    await Promise.allSettled([...active]);
    recent.clear();
    await rounds.flush().catch(() => undefined);
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
    if (!(await pieceMatches(metainfo, index, data))) {
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

  async function verifyDigest(signal: AbortSignal | undefined): Promise<void> {
    if (cursor === undefined) {
      // Every piece passed its check against a chain that ends at the last entry.
      const end = metainfo.pieceHashes.at(-1);
      if (end !== digest.hex) throw new DigestMismatchError(digest.value, `sha256:${end ?? 'none'}`);
      return;
    }
    const actual = await cursor.finish(signal);
    if (actual.value !== digest.value) throw new DigestMismatchError(digest.value, actual.value);
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

    keep(index, data) {
      if (closed || !bits.has(index)) buffers.give(data);
      else recent.keep(index, data);
    },

    sync: () => rounds.sync(),

    async readPiece(index, into) {
      assertOpen();
      const { length } = pieceRange(metainfo, index);
      if (!bits.has(index)) throw new PieceNotAvailableError(index);
      const piece = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length);
      if (piece.length < length)
        throw new RangeError(`a buffer of ${into?.length} bytes cannot hold piece ${index}`);
      return track(readStored(index, piece));
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
      await track(verifyDigest(signal));
      // The one data sync of a download; it also reports a write-back the disk failed.
      await track(file.datasync());
    } catch (err) {
      if (
        err instanceof KrakenError &&
        (err.code === 'KRAKEN_DIGEST_MISMATCH' || err.code === 'KRAKEN_SIZE_MISMATCH')
      ) {
        await partial.discard();
      }
      throw err;
    }
    // Adopted while still open: readers (a client streaming the blob) go on reading the
    // same inode until the scheduler serves the blob from its new home.
    try {
      await destination.adopt(digest, dataPath);
    } finally {
      await close();
    }
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
