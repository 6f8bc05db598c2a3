/**
 * On-disk partial blobs of swarm downloads. Each blob being downloaded is a sparse
 * data file of its full size plus a persisted bitfield of the pieces verified so far,
 * both under `<dir>/<algorithm>/<hex>.*`, names derived only from a parsed digest.
 *
 * A piece is hashed before it touches the disk, written at its offset with positional
 * writes, and then marked in the bitfield, which is persisted atomically in paced
 * rounds. Nothing is synced on the way (the page cache outlives a crash of the
 * process); the bitfield names the boot that wrote it, and after a reboot the pieces
 * it claims are hashed again before they count. So every piece a resumed download
 * trusts is on disk and verified. On completion the whole digest is checked, the file
 * synced once and handed to the caller's content store, which moves it under its
 * digest; until then it is only ever visible here, under the partial directory.
 */
import * as nodeFs from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SUPPORTED_DIGEST_ALGORITHMS, parseDigest, tryParseDigest, type Digest } from '@kraken/oci-content';
import { isMissing, type PieceStoreFileSystem } from './bitfield-file.js';
import { InvalidMetainfoError } from '../errors.js';
import { metainfoId, toMetainfo, type Metainfo } from '../metainfo/metainfo.js';
import { openPartialBlob, type PartialBlob } from './partial-blob.js';
import { currentBootId } from './boot-id.js';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';
import type { Clock } from '@kraken/foundation';

export type { BlobAdopter, PartialBlob } from './partial-blob.js';

export interface PieceStoreOptions {
  /** Directory of partial downloads; created on demand. */
  readonly dir: string;
  readonly fs?: PieceStoreFileSystem | undefined;
  /** Buffers for reading pieces back (the whole digest's pass over pieces that came out of order). */
  readonly buffers?: PieceBufferPool | undefined;
  /** Bytes of verified pieces each partial blob keeps in memory once written (see PartialBlob.keep). */
  readonly recentPieceBytes?: number | undefined;
  /** Least time between two bitfield writes of a partial blob (ms, default 0). */
  readonly syncIntervalMs?: number | undefined;
  /** This boot's id; the kernel's (boot-id.ts) by default. */
  readonly bootId?: (() => Promise<string | undefined>) | undefined;
  readonly clock?: Clock | undefined;
}

export interface PieceStore {
  /**
   * Opens (creating or resuming) the partial blob of `metainfo`. While a handle is
   * open, opening the same metainfo again returns that same handle.
   */
  open(metainfo: Metainfo): Promise<PartialBlob>;
  /** Digests that have a partial download on disk, open or not (for cleanup at start). */
  list(): Promise<Digest[]>;
  /** Deletes the partial download of `digest`, discarding an open handle; false when none. */
  remove(digest: Digest): Promise<boolean>;
}

export function createPieceStore(options: PieceStoreOptions): PieceStore {
  const root = resolve(options.dir);
  const fs = options.fs ?? nodeFs;
  const opened = new Map<string, { id: string; handle: Promise<PartialBlob> }>();
  // Handles still closing: a new open of the same digest waits for their last write.
  const closing = new Map<string, Promise<void>>();

  return {
    async open(input) {
      // Validated here too: the digest names files, and sizes drive offsets.
      const metainfo = toMetainfo(input);
      const digest = parseDigest(metainfo.digest);
      const id = metainfoId(metainfo);
      const existing = opened.get(digest.value);
      if (existing !== undefined) {
        if (existing.id !== id) {
          throw new InvalidMetainfoError(`blob ${digest.value} is already open with another piece layout`);
        }
        return existing.handle;
      }
      const key = digest.value;
      const previous = closing.get(key);
      const handle = (async () => {
        await previous?.catch(() => undefined);
        return openPartialBlob({
          bootId: await (options.bootId ?? currentBootId)(),
          fs,
          dir: join(root, digest.algorithm),
          metainfo,
          digest,
          buffers: options.buffers,
          recentPieceBytes: options.recentPieceBytes,
          syncIntervalMs: options.syncIntervalMs,
          clock: options.clock,
          onClose: (closed) => {
            if (opened.get(key)?.handle === handle) opened.delete(key);
            closing.set(key, closed);
            const forget = () => {
              if (closing.get(key) === closed) closing.delete(key);
            };
            closed.then(forget, forget);
          },
        });
      })();
      opened.set(key, { id, handle });
      handle.catch(() => {
        if (opened.get(key)?.handle === handle) opened.delete(key);
      });
      return handle;
    },

    async list() {
      const found = new Map<string, Digest>();
      for (const algorithm of SUPPORTED_DIGEST_ALGORITHMS) {
        let names: string[];
        try {
          names = await fs.readdir(join(root, algorithm));
        } catch (err) {
          if (isMissing(err)) continue;
          throw err;
        }
        for (const name of names) {
          const hex = PARTIAL_FILE.exec(name)?.[1];
          // Foreign files are left alone rather than guessed at.
          const digest = hex === undefined ? undefined : tryParseDigest(`${algorithm}:${hex}`);
          if (digest !== undefined) found.set(digest.value, digest);
        }
      }
      return [...found.values()];
    },

    async remove(input) {
      // Re-parsed: only a validated digest may name a file.
      const digest = parseDigest(input.value);
      const existing = opened.get(digest.value);
      if (existing !== undefined) {
        const handle = await existing.handle.catch(() => undefined);
        await handle?.discard();
      }
      await closing.get(digest.value)?.catch(() => undefined);
      const base = join(root, digest.algorithm, digest.hex);
      let removed = existing !== undefined;
      for (const suffix of ['.data', '.bitfield', '.bitfield.tmp']) {
        try {
          await fs.rm(base + suffix);
          removed = true;
        } catch (err) {
          if (!isMissing(err)) throw err;
        }
      }
      return removed;
    },
  };
}

const PARTIAL_FILE = /^([a-f0-9]+)\.(?:data|bitfield(?:\.tmp)?)$/;
