/**
 * Read-through for the origin: a blob missing from the local cache is fetched from the
 * backend once, however many clients ask for it at the same time. The first request
 * starts a fill (store/blob-fill.ts); it and every concurrent request, full or ranged, tail
 * the growing temp file (store/fill-reader.ts), so no client waits for the whole blob before
 * its first bytes. The temp file is adopted into the cache only after the digest
 * checked out; a bad digest fails every reader and caches nothing. Requests arriving
 * after the fill finished read the cached copy.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Digest } from '@kraken/oci-content';
import { startBlobFill, type BlobFill, type FillSource } from './blob-fill.js';
import type { ContentCache } from '@kraken/storage-backends';
import type { BlobStat } from '@kraken/storage-backends';
import { CorruptBackendContentError, InvalidRangeError, ObjectNotFoundError } from '@kraken/storage-backends';
import { FillReader } from './fill-reader.js';
import type { ByteRange } from '@kraken/storage-backends';
import { silentStoreLogger, type StoreLogger } from '@kraken/storage-backends';

export type { FillSource } from './blob-fill.js';

export type FillResult = 'done' | 'corrupt' | 'error';

export interface ReadThroughOptions {
  readonly cache: Pick<ContentCache, 'stat' | 'read' | 'adopt' | 'pin'>;
  /** Directory of in-progress fills; emptied on start. Put it on the cache's filesystem. */
  readonly fillDir: string;
  readonly logger?: StoreLogger;
  /** Told about every finished fill (metrics). A blob the backend lacks is not a fill. */
  readonly onFill?: (event: { digest: Digest; result: FillResult; bytes: number; error?: unknown }) => void;
}

export interface ReadThrough {
  /** Clears fills a previous process left half-written. */
  start(): Promise<void>;
  /** Size from the cache, a running fill, or else the backend. */
  stat(digest: Digest, source: FillSource): Promise<BlobStat | undefined>;
  /**
   * Size from the cache or a running fill, else starts a fill from `source` (no reader
   * needed) and answers once its size is known: undefined when the source lacks the blob.
   */
  prefetch(digest: Digest, source: FillSource): Promise<BlobStat | undefined>;
  /** Streams from the cache, or from `source` through the shared fill; rejects with ObjectNotFoundError. */
  read(digest: Digest, source: FillSource, range?: ByteRange): Promise<Readable>;
  /** Fills running now. */
  active(): number;
  /** Aborts running fills (their readers fail) and waits for them to clean up. */
  close(): Promise<void>;
}

export function createReadThrough(options: ReadThroughOptions): ReadThrough {
  const { cache, fillDir } = options;
  const log = options.logger ?? silentStoreLogger;
  const fills = new Map<string, BlobFill>();

  function begin(digest: Digest, source: FillSource): BlobFill {
    const fill = startBlobFill({ digest, source, dir: fillDir, adopt: (d, f, s) => cache.adopt(d, f, s) });
    fills.set(digest.value, fill);
    // Adoption may trigger an eviction pass before the first reader re-pins the blob.
    const unpin = cache.pin(digest);
    fill.done
      .then(
        () => options.onFill?.({ digest, result: 'done', bytes: fill.written }),
        (error: unknown) => {
          if (error instanceof ObjectNotFoundError) return;
          const corrupt = error instanceof CorruptBackendContentError;
          if (corrupt)
            log.error({ digest: digest.value, backend: source.name, err: error }, 'backend content corrupt');
          else log.warn({ digest: digest.value, backend: source.name, err: error }, 'read-through failed');
          options.onFill?.({ digest, result: corrupt ? 'corrupt' : 'error', bytes: fill.written, error });
        },
      )
      .finally(() => {
        if (fills.get(digest.value) === fill) fills.delete(digest.value);
        unpin();
      });
    return fill;
  }

  return {
    async start() {
      await rm(fillDir, { recursive: true, force: true });
      await mkdir(fillDir, { recursive: true });
    },

    async stat(digest, source) {
      const cached = await cache.stat(digest);
      if (cached !== undefined) return cached;
      const fill = fills.get(digest.value);
      if (fill?.state === 'filling') return { size: fill.size };
      return source.stat(digest);
    },

    async prefetch(digest, source) {
      const cached = await cache.stat(digest);
      if (cached !== undefined) return cached;
      const fill = fills.get(digest.value) ?? begin(digest, source);
      try {
        await fill.ready;
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return undefined;
        throw err;
      }
      return { size: fill.size };
    },

    async read(digest, source, range) {
      if ((await cache.stat(digest)) !== undefined) {
        try {
          return await cache.read(digest, range);
        } catch (err) {
          // Evicted since the stat: fetch it again like any miss.
          if (!(err instanceof ObjectNotFoundError)) throw err;
        }
      }
      const fill = fills.get(digest.value) ?? begin(digest, source);
      // Attach before any await, so the fill keeps its temp file until this reader opened it.
      const detach = fill.attach();
      const unpin = cache.pin(digest);
      const release = () => {
        detach();
        unpin();
      };
      try {
        await fill.ready;
      } catch (err) {
        release();
        throw err;
      }
      const { size } = fill;
      const start = range?.start ?? 0;
      const end = range === undefined ? size - 1 : Math.min(range.end, size - 1);
      if (
        range !== undefined &&
        !(Number.isSafeInteger(start) && start >= 0 && start < size && end >= start)
      ) {
        release();
        throw new InvalidRangeError(digest.value, range, size);
      }
      return new FillReader({ fill, start, end, onClose: release });
    },

    active() {
      return fills.size;
    },

    async close() {
      const running = [...fills.values()];
      for (const fill of running) fill.abort(new Error('origin is shutting down'));
      await Promise.allSettled(running.map((fill) => fill.done));
    },
  };
}
