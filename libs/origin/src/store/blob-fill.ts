/**
 * One read-through fill: a single backend read of a blob, written to a temp file while
 * it is hashed, and adopted into the local cache only once its digest (and size)
 * checked out. Readers tail the growing file (see store/fill-reader.ts); the fill tells them
 * about every write and about its end, and keeps the temp file until the last of them
 * has let go, so a reader never races the cleanup.
 */
import { randomUUID } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError, DigestVerifyStream, SizeMismatchError, type Digest } from '@kraken/oci-content';
import { CorruptBackendContentError, ObjectNotFoundError } from '@kraken/storage-backends';
import type { ContentStore } from '@kraken/storage-backends';
import { blobKey } from '@kraken/storage-backends';

export type FillState = 'opening' | 'filling' | 'done' | 'failed';

/** The store a fill reads from. */
export type FillSource = Pick<ContentStore, 'name' | 'stat' | 'read'>;

export interface BlobFillOptions {
  readonly digest: Digest;
  readonly source: FillSource;
  /** Directory of in-progress fills; on the cache's filesystem, so adoption is a link. */
  readonly dir: string;
  /** Publishes the verified temp file (ContentCache.adopt). */
  readonly adopt: (digest: Digest, file: string, size: number) => Promise<void>;
}

export interface BlobFill {
  readonly digest: Digest;
  readonly path: string;
  readonly state: FillState;
  /** The blob's size, known once `ready` resolved. */
  readonly size: number;
  /** Bytes in the temp file so far. */
  readonly written: number;
  readonly error: unknown;
  /** Resolves once the temp file exists and the size is known; rejects like `done`. */
  readonly ready: Promise<void>;
  /** Resolves once the blob is verified and cached; rejects with the fill's error. */
  readonly done: Promise<void>;
  /** Resolves at the next write or at the end, whichever comes first. */
  changed(): Promise<void>;
  /** A reader holds the temp file until it calls the returned release. */
  attach(): () => void;
  /** Gives up the backend read (shutdown); readers see the abort as an error. */
  abort(reason: Error): void;
}

export function startBlobFill(options: BlobFillOptions): BlobFill {
  const { digest, source } = options;
  const path = join(options.dir, `${digest.hex}-${randomUUID()}`);
  const controller = new AbortController();
  let waiters: (() => void)[] = [];
  let readers = 0;
  let fileCreated = false;

  const notify = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  const removeFileWhenUnused = () => {
    if (readers === 0 && fileCreated && (fill.state === 'done' || fill.state === 'failed'))
      void rm(path, { force: true });
  };

  let markReady!: () => void;
  let failReady!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });

  const fill = {
    digest,
    path,
    state: 'opening' as FillState,
    size: 0,
    written: 0,
    error: undefined as unknown,
    ready,
    done: Promise.resolve(),
    changed: () => new Promise<void>((resolve) => waiters.push(resolve)),
    attach() {
      readers += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        readers -= 1;
        removeFileWhenUnused();
      };
    },
    abort(reason: Error) {
      controller.abort(reason);
    },
  };

  async function run(): Promise<void> {
    const stat = await source.stat(digest);
    if (stat === undefined) throw new ObjectNotFoundError(blobKey(digest));
    const body = await source.read(digest);
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (err) {
      body.destroy();
      throw err;
    }
    fileCreated = true;
    fill.size = stat.size;
    fill.state = 'filling';
    markReady();
    try {
      await copyVerified(body, handle, stat.size);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.adopt(digest, path, stat.size);
  }

  async function copyVerified(body: Readable, handle: FileHandle, size: number): Promise<void> {
    const verifier = new DigestVerifyStream({ expected: digest, expectedSize: size });
    try {
      await pipeline(
        body,
        verifier,
        async (chunks: AsyncIterable<Buffer>) => {
          for await (const chunk of chunks) {
            let offset = 0;
            while (offset < chunk.length) {
              const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, fill.written);
              offset += bytesWritten;
              fill.written += bytesWritten;
            }
            notify();
          }
        },
        { signal: controller.signal },
      );
    } catch (err) {
      if (err instanceof DigestMismatchError || err instanceof SizeMismatchError)
        throw new CorruptBackendContentError(source.name, digest.value, err);
      throw err;
    }
  }

  fill.done = run().then(
    () => {
      fill.state = 'done';
      notify();
      removeFileWhenUnused();
    },
    (err: unknown) => {
      fill.state = 'failed';
      fill.error = err;
      failReady(err);
      notify();
      removeFileWhenUnused();
      throw err;
    },
  );
  // Callers observe failures through `ready`, `done` or the readers; never unhandled.
  fill.done.catch(() => {});
  ready.catch(() => {});
  return fill;
}
