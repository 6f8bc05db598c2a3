/**
 * A content-addressed cache on local disk, bounded in bytes. It counts only its own
 * blobs (never the filesystem's usage), evicts least-recently-used blobs once usage
 * crosses the high watermark until it is under the low one, and never evicts a blob
 * that is being read. Agents keep pulled content here; proxies keep what was pushed
 * through them, adopting the verified upload file by hard link instead of copying it.
 */
import { createReadStream } from 'node:fs';
import { link, mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Digest, DigestAlgorithm } from '@kraken/oci-content';
import type { Metrics } from '@kraken/service-kit';
import { createFilesystemBackend } from '../backends/filesystem/filesystem-backend.js';
import { blobKey } from '../keys/blob-key.js';
import { createContentCacheMetrics } from './content-cache-metrics.js';
import {
  createContentStore,
  type BlobListPage,
  type BlobStat,
  type BlobWriteOptions,
  type BlobWriteResult,
} from './content-store.js';
import type { ByteRange } from '../storage-backend.js';

export interface ContentCacheOptions {
  /** Directory of the cache; created when missing. */
  readonly root: string;
  /** High watermark: eviction starts once cached bytes exceed this. 0 means unbounded. */
  readonly maxBytes: number;
  /** Eviction stops once usage is at or below `maxBytes × lowWatermark` (default 0.9). */
  readonly lowWatermark?: number;
  /** Registers the cache's metrics on it (content-cache-metrics.ts); without it there are none. */
  readonly metrics?: Metrics;
  /** Prefix of their names after the component's: `blob_cache_` by default, the origin's is `cache_`. */
  readonly metricsPrefix?: string;
  /** Also counts the bytes evicted, as `<prefix>evicted_bytes_total` (the origin does). */
  readonly evictedBytesMetric?: boolean;
}

/** A cached blob open for positional reads; it stays pinned until closed. */
export interface CachedBlobFile {
  readonly size: number;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** Closes the file and unpins the blob; idempotent. */
  close(): Promise<void>;
}

export interface ContentCacheUsage {
  readonly bytes: number;
  readonly blobs: number;
  readonly pinned: number;
  readonly maxBytes: number;
}

export interface ContentCache {
  readonly name: string;
  /** Indexes the blobs already on disk (oldest first); call before serving. */
  start(): Promise<void>;
  stat(digest: Digest): Promise<BlobStat | undefined>;
  /** Streams a cached blob; it stays pinned (not evictable) until the stream ends or is destroyed. */
  read(digest: Digest, range?: ByteRange): Promise<Readable>;
  /**
   * Opens a cached blob for positional reads, undefined when it is not cached: for
   * readers that come back to one blob many times (seeding its pieces), which then pay
   * one open instead of one per read. The blob stays pinned until the file is closed.
   */
  openFile(digest: Digest): Promise<CachedBlobFile | undefined>;
  /** Stores a stream once it verifies against `digest`. */
  write(digest: Digest, source: Readable, options?: BlobWriteOptions): Promise<BlobWriteResult>;
  /**
   * Takes in a local file already verified to hold `digest` (e.g. a finished upload):
   * hard-linked when on the same filesystem, copied and re-verified otherwise.
   */
  adopt(digest: Digest, file: string, size: number): Promise<void>;
  /**
   * Keeps `digest` from being evicted (whether or not it is cached yet) until the
   * returned release is called; pins nest. Owners of blobs with no other copy (an
   * origin's pending write-backs) hold one.
   */
  pin(digest: Digest): () => void;
  /** Cached digests in lexical order of their value, paginated like ContentStore.list. */
  list(options?: { algorithm?: DigestAlgorithm; limit?: number; continuationToken?: string }): BlobListPage;
  delete(digest: Digest): Promise<boolean>;
  usage(): ContentCacheUsage;
  check(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export function createContentCache(options: ContentCacheOptions): ContentCache {
  const backend = createFilesystemBackend({ root: options.root });
  const store = createContentStore({ backend });
  const lowBytes = options.maxBytes * (options.lowWatermark ?? 0.9);
  // Map iteration order is insertion order: re-inserting on use makes it an LRU list.
  const entries = new Map<string, { digest: Digest; size: number }>();
  const pins = new Map<string, number>();
  let bytes = 0;
  let evicting: Promise<void> | undefined;
  let rerun = false;
  const metrics = createContentCacheMetrics(options.metrics, {
    prefix: options.metricsPrefix ?? 'blob_cache_',
    evictedBytes: options.evictedBytesMetric ?? false,
    bytesHeld: () => bytes,
  });

  function remember(digest: Digest, size: number): void {
    const existing = entries.get(digest.value);
    if (existing !== undefined) {
      entries.delete(digest.value);
      entries.set(digest.value, existing);
      return;
    }
    entries.set(digest.value, { digest, size });
    bytes += size;
    scheduleEviction();
  }

  function forget(digest: Digest): void {
    const existing = entries.get(digest.value);
    if (existing === undefined) return;
    entries.delete(digest.value);
    bytes -= existing.size;
  }

  function scheduleEviction(): void {
    if (options.maxBytes <= 0 || bytes <= options.maxBytes) return;
    if (evicting !== undefined) {
      rerun = true;
      return;
    }
    rerun = false;
    evicting = evict().then(
      (freed) => {
        evicting = undefined;
        // Writes or unpins that came in while evicting may allow more. A pass that
        // freed nothing and saw no change stops: with everything pinned, retrying at
        // once would spin; the next unpin or write schedules a pass again.
        if (freed > 0 || rerun) scheduleEviction();
      },
      () => {
        // A file that could not be deleted is already forgotten; the next write or
        // unpin starts a new pass.
        evicting = undefined;
      },
    );
  }

  async function evict(): Promise<number> {
    let freed = 0;
    for (const entry of [...entries.values()]) {
      if (bytes <= lowBytes) break;
      if ((pins.get(entry.digest.value) ?? 0) > 0) continue;
      forget(entry.digest);
      freed += 1;
      await store.delete(entry.digest);
      metrics.evicted(entry.size);
    }
    return freed;
  }

  function pin(digest: Digest): () => void {
    pins.set(digest.value, (pins.get(digest.value) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (pins.get(digest.value) ?? 1) - 1;
      if (left > 0) pins.set(digest.value, left);
      else pins.delete(digest.value);
      scheduleEviction();
    };
  }

  return {
    name: `cache:${options.root}`,

    async start() {
      const found: { digest: Digest; size: number; at: number }[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await store.list(continuationToken === undefined ? {} : { continuationToken });
        for (const digest of page.digests) {
          const s = await backend.stat(blobKey(digest));
          if (s !== undefined) found.push({ digest, size: s.size, at: s.modifiedAt.getTime() });
        }
        continuationToken = page.continuationToken;
      } while (continuationToken !== undefined);
      found.sort((a, b) => a.at - b.at);
      for (const f of found) remember(f.digest, f.size);
      await evicting;
    },

    async stat(digest) {
      const entry = entries.get(digest.value);
      return entry === undefined ? undefined : { size: entry.size };
    },

    async read(digest, range) {
      const release = pin(digest);
      try {
        const stream = await store.read(digest, range);
        const entry = entries.get(digest.value);
        if (entry !== undefined) remember(digest, entry.size);
        finished(stream).then(release, release);
        stream.once('close', release);
        return stream;
      } catch (err) {
        release();
        throw err;
      }
    },

    async openFile(digest) {
      const entry = entries.get(digest.value);
      if (entry === undefined) return undefined;
      const release = pin(digest);
      let handle;
      try {
        handle = await open(join(options.root, blobKey(digest)), 'r');
      } catch (err) {
        release();
        // Deleted behind our back since the lookup: not cached after all.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      remember(digest, entry.size);
      const file = handle;
      let closing: Promise<void> | undefined;
      return {
        size: entry.size,
        read: (buffer, offset, length, position) => file.read(buffer, offset, length, position),
        close() {
          closing ??= file.close().finally(release);
          return closing;
        },
      };
    },

    async write(digest, source, writeOptions) {
      const result = await store.write(digest, source, writeOptions);
      remember(digest, result.size);
      return result;
    },

    async adopt(digest, file, size) {
      if (entries.has(digest.value)) return;
      const target = join(options.root, blobKey(digest));
      await mkdir(dirname(target), { recursive: true });
      try {
        await link(file, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') {
          remember(digest, size);
          return;
        }
        if (code !== 'EXDEV' && code !== 'EPERM') throw err;
        // Another filesystem: copy through the verifying writer instead.
        await store.write(digest, createReadStream(file), { size });
        remember(digest, size);
        return;
      }
      remember(digest, size);
    },

    pin,

    list(listOptions = {}) {
      const limit = Math.max(1, Math.floor(listOptions.limit ?? 1000));
      const after = listOptions.continuationToken;
      const values = [...entries.values()]
        .map((e) => e.digest)
        .filter((d) => listOptions.algorithm === undefined || d.algorithm === listOptions.algorithm)
        .filter((d) => after === undefined || d.value > after)
        .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
      const digests = values.slice(0, limit);
      const last = digests[digests.length - 1];
      return {
        digests,
        continuationToken: values.length > limit && last !== undefined ? last.value : undefined,
      };
    },

    async delete(digest) {
      forget(digest);
      return store.delete(digest);
    },

    usage() {
      return { bytes, blobs: entries.size, pinned: pins.size, maxBytes: options.maxBytes };
    },

    check(signal) {
      return backend.check(signal);
    },

    async close() {
      await evicting;
      await backend.close();
    },
  };
}
