/**
 * StorageBackend on a local directory. Writes stream into a temp file under
 * `<root>/.tmp` (same filesystem, so the final rename is atomic), are fsynced, renamed
 * into place and the directory entry fsynced: an object is either complete and durable
 * or absent. Every key is validated and its resolved path checked to stay under root.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  InvalidKeyError,
  InvalidRangeError,
  KeyConflictError,
  ObjectNotFoundError,
  StorageUnavailableError,
} from '../../errors.js';
import { walkKeys } from './filesystem-listing.js';
import { validateKeyPrefix, validateObjectKey } from '../../keys/object-key.js';
import { createBufferPool } from './buffer-pool.js';
import { FileReadStream } from './file-read-stream.js';
import type { ByteRange, ListOptions, ListPage, ObjectStat, StorageBackend } from '../../storage-backend.js';

// Large reads: with Node's default 64 KiB chunks, serving a blob costs about three
// times the CPU per byte (measured on loopback), and blob serving is the hot path.
// Buffers are pooled and shared by every filesystem backend of the process.
const readPool = createBufferPool({ bufferSize: 1024 * 1024, maxPooled: 64 });

/** Temp files live here; the name is reserved and never listed as a key. */
export const FILESYSTEM_TEMP_DIR = '.tmp';
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

export interface FilesystemBackendOptions {
  /** Directory holding the objects; created on first write. */
  readonly root: string;
}

export function createFilesystemBackend(options: FilesystemBackendOptions): StorageBackend {
  const root = resolve(options.root);
  const tempDir = join(root, FILESYSTEM_TEMP_DIR);
  const hidden = new Set([FILESYSTEM_TEMP_DIR]);

  function pathOf(key: string): string {
    const segments = validateObjectKey(key);
    if (segments[0] === FILESYSTEM_TEMP_DIR)
      throw new InvalidKeyError(key, `"${FILESYSTEM_TEMP_DIR}" is reserved`);
    const path = resolve(root, ...segments);
    // Belt and braces: validation already rules out traversal, but the path is what
    // touches the disk, so it is checked too.
    if (!path.startsWith(root + sep)) throw new InvalidKeyError(key, 'resolves outside the storage root');
    return path;
  }

  return {
    name: `fs:${root}`,

    async stat(key: string): Promise<ObjectStat | undefined> {
      const path = pathOf(key);
      try {
        const s = await stat(path);
        return s.isFile() ? { size: s.size, modifiedAt: s.mtime } : undefined;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    async read(key: string, range?: ByteRange): Promise<Readable> {
      const path = pathOf(key);
      let handle;
      try {
        handle = await open(path, 'r');
      } catch (err) {
        if (isMissing(err) || errnoCode(err) === 'EISDIR') throw new ObjectNotFoundError(key);
        throw err;
      }
      try {
        const s = await handle.stat();
        if (!s.isFile()) throw new ObjectNotFoundError(key);
        if (range !== undefined && !validRange(range, s.size))
          throw new InvalidRangeError(key, range, s.size);
        return new FileReadStream({
          handle,
          start: range?.start ?? 0,
          end: range === undefined ? s.size - 1 : Math.min(range.end, s.size - 1),
          pool: readPool,
        });
      } catch (err) {
        await handle.close();
        throw err;
      }
    },

    async write(
      key: string,
      source: Readable,
      writeOptions: { signal?: AbortSignal } = {},
    ): Promise<ObjectStat> {
      const path = pathOf(key);
      const { signal } = writeOptions;
      try {
        signal?.throwIfAborted();
        await mkdir(tempDir, { recursive: true });
        await mkdir(dirname(path), { recursive: true });
      } catch (err) {
        if (isConflict(err)) throw new KeyConflictError(key);
        throw err;
      }
      const temp = join(tempDir, randomUUID());
      try {
        // `flush` fsyncs the file before the stream closes; pipeline waits for close.
        const sink = createWriteStream(temp, { flags: 'wx', flush: true });
        await pipeline(source, sink, signal === undefined ? {} : { signal });
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        if (isConflict(err)) throw new KeyConflictError(key);
        throw err;
      }
      await fsyncDirectory(dirname(path));
      const s = await stat(path);
      return { size: s.size, modifiedAt: s.mtime };
    },

    async list(listOptions: ListOptions = {}): Promise<ListPage> {
      const prefix = validateKeyPrefix(listOptions.prefix ?? '');
      const limit = Math.min(Math.max(1, Math.floor(listOptions.limit ?? DEFAULT_PAGE)), MAX_PAGE);
      const after = listOptions.continuationToken;
      if (after !== undefined) validateObjectKey(after);
      const keys: string[] = [];
      let more = false;
      try {
        for await (const key of walkKeys({ root, prefix, after, hidden })) {
          if (keys.length === limit) {
            more = true;
            break;
          }
          keys.push(key);
        }
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
      return { keys, continuationToken: more ? keys[keys.length - 1] : undefined };
    },

    async delete(key: string): Promise<boolean> {
      const path = pathOf(key);
      try {
        await unlink(path);
        return true;
      } catch (err) {
        const code = errnoCode(err);
        if (isMissing(err) || code === 'EISDIR' || code === 'EPERM') return false;
        throw err;
      }
    },

    async check(signal?: AbortSignal): Promise<void> {
      const probe = join(tempDir, `check-${randomUUID()}`);
      try {
        signal?.throwIfAborted();
        await mkdir(tempDir, { recursive: true });
        await writeFile(probe, 'ok', signal === undefined ? {} : { signal });
        await unlink(probe);
      } catch (err) {
        await rm(probe, { force: true }).catch(() => {});
        throw new StorageUnavailableError(`fs:${root}`, err);
      }
    },

    async close(): Promise<void> {},
  };
}

function validRange(range: ByteRange, size: number): boolean {
  return (
    Number.isSafeInteger(range.start) &&
    Number.isSafeInteger(range.end) &&
    range.start >= 0 &&
    range.end >= range.start &&
    range.start < size
  );
}

/** Makes a rename durable: the new directory entry survives a crash. */
async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems cannot fsync a directory; the rename itself still happened.
    const code = errnoCode(err);
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await handle.close();
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isConflict(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST';
}
