/**
 * The origin's blob store: a byte-bounded local cache in front of the storage backend.
 *
 * - Writes land in the cache (verified) and are written back to the backend through
 *   the durable queue; the blob stays pinned in the cache until its write-back
 *   succeeded, so the only copy is never evicted. Jobs left by a previous process are
 *   pinned again before the cache's first eviction pass, then resumed.
 * - Reads are served from the cache, or read through from the backend with concurrent
 *   requests for one digest sharing one backend read (store/read-through-store.ts).
 *
 * Backends: blobs pushed without a namespace go to the default backend; with one,
 * `forNamespace` (the namespace router) picks it. The lookup runs before the upload's
 * body is read, so a namespace no rule accepts fails the upload up front (with the
 * router's typed error) instead of failing its write-back later. A read has no
 * namespace: the default backend is asked first, then the routed ones in order.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestVerifyStream, type Digest } from '@kraken/oci-content';
import type { Metrics } from '@kraken/service-kit';
import type { CachedBlobFile, ContentCache, ContentCacheUsage } from '@kraken/storage-backends';
import {
  createContentStore,
  type BlobWriteOptions,
  type BlobWriteResult,
  type ContentStore,
} from '@kraken/storage-backends';
import { ObjectNotFoundError, WriteBackSourceMissingError } from '@kraken/storage-backends';
import { FILESYSTEM_TEMP_DIR } from '@kraken/storage-backends';
import { createBlobStoreMetrics } from './blob-store-metrics.js';
import { createReadThrough } from './read-through-store.js';
import { type FillSource } from './blob-fill.js';
import type { StorageBackend } from '@kraken/storage-backends';
import { silentStoreLogger, type StoreLogger } from '@kraken/storage-backends';
import {
  createWriteBackQueue,
  type WriteBackJob,
  type WriteBackQueueOptions,
  type WriteBackQueueStats,
} from '@kraken/storage-backends';

export interface OriginBlobWriteOptions extends BlobWriteOptions {
  /** The repository the blob was pushed to; selects its backend. */
  readonly namespace?: string;
}

export interface OriginBackends {
  /** Blobs written without a namespace, and the first place reads look. */
  readonly default: StorageBackend;
  /** The backend of a namespace; throws a typed (4xx) error when none takes it. */
  readonly forNamespace?: (namespace: string) => StorageBackend;
  /** Every routed backend, in rule order: where reads look after the default. */
  readonly routed?: readonly StorageBackend[];
}

export interface OriginBlobStoreOptions {
  /** The local cache; started and closed by this store. */
  readonly cache: ContentCache;
  /** Root directory of `cache`, where in-progress fills go (same filesystem: adoption is a link). */
  readonly cacheDir: string;
  readonly backends: OriginBackends;
  readonly writeBack: Omit<WriteBackQueueOptions, 'perform' | 'onSettled' | 'logger'>;
  readonly logger?: StoreLogger;
  /** Registers the store's metrics on it (blob-store-metrics.ts); without it there are none. */
  readonly metrics?: Metrics;
}

export interface OriginBlobStore extends ContentStore {
  write(digest: Digest, source: Readable, options?: OriginBlobWriteOptions): Promise<BlobWriteResult>;
  /**
   * Takes in a finished upload file: verified against `digest` (one read), then
   * hard-linked into the cache (copied across filesystems) and queued for write-back,
   * so a large upload is not written to disk a second time. The caller removes its file.
   */
  adoptFile(
    digest: Digest,
    file: string,
    options: { size: number; namespace?: string },
  ): Promise<BlobWriteResult>;
  /**
   * The blob's local copy open for positional reads (seeding its pieces), pinned until
   * closed; undefined when it is not in the local cache (read it through `read`).
   */
  openFile(digest: Digest): Promise<CachedBlobFile | undefined>;
  /** Pins blobs with queued write-backs, indexes the cache, resumes the queue. */
  start(): Promise<void>;
  /** Readiness of the local side: the cache directory is writable. */
  checkLocal(signal?: AbortSignal): Promise<void>;
  writeBackStats(): WriteBackQueueStats;
  /** Write-back jobs, pending and failed (operators, tests). */
  writeBackJobs(): WriteBackJob[];
  /** Puts failed write-backs back in line; returns how many. */
  retryFailedWriteBacks(): number;
  cacheUsage(): ContentCacheUsage;
  /** Read-through fills running now. */
  activeFills(): number;
  /**
   * Reads that fill from `source` instead of the backends (an upstream registry). Its
   * stat starts the fill when the blob is not local, so later readers and the metainfo
   * generation, which know no source, join it.
   */
  through(source: FillSource): FillSource;
  close(): Promise<void>;
}

export function createOriginBlobStore(options: OriginBlobStoreOptions): OriginBlobStore {
  const { cache, backends } = options;
  const log = options.logger ?? silentStoreLogger;
  const stores = new Map<StorageBackend, ContentStore>();
  const contentOf = (backend: StorageBackend): ContentStore => {
    let store = stores.get(backend);
    if (store === undefined) stores.set(backend, (store = createContentStore({ backend })));
    return store;
  };
  const remoteFor = (namespace: string | undefined): ContentStore =>
    contentOf(
      namespace === undefined || backends.forNamespace === undefined
        ? backends.default
        : backends.forNamespace(namespace),
    );
  const readOrder = [...new Set([backends.default, ...(backends.routed ?? [])])].map(contentOf);
  /** Reads look in every backend, the default first, and use the first that has the blob. */
  const readSource: FillSource = {
    name: readOrder.map((s) => s.name).join(', '),
    async stat(digest) {
      for (const store of readOrder) {
        const stat = await store.stat(digest);
        if (stat !== undefined) return stat;
      }
      return undefined;
    },
    async read(digest, range) {
      for (const store of readOrder.slice(0, -1)) {
        if ((await store.stat(digest)) !== undefined) return store.read(digest, range);
      }
      const last = readOrder[readOrder.length - 1] ?? contentOf(backends.default);
      return last.read(digest, range);
    },
  };
  // One cache pin per queued job, keyed by digest then namespace.
  const pins = new Map<string, Map<string, () => void>>();

  function hold(digest: Digest, namespace: string | undefined, unpin: () => void): void {
    let byNamespace = pins.get(digest.value);
    if (byNamespace === undefined) pins.set(digest.value, (byNamespace = new Map()));
    const key = namespace ?? '';
    if (byNamespace.has(key)) unpin();
    else byNamespace.set(key, unpin);
  }

  function letGo(digest: Digest, namespace?: string): void {
    const byNamespace = pins.get(digest.value);
    if (byNamespace === undefined) return;
    for (const [key, unpin] of byNamespace) {
      if (namespace !== undefined && key !== namespace) continue;
      unpin();
      byNamespace.delete(key);
    }
    if (byNamespace.size === 0) pins.delete(digest.value);
  }

  async function writeBack(job: WriteBackJob, signal: AbortSignal): Promise<void> {
    const remote = remoteFor(job.namespace);
    // Already there (pushed before, or an attempt that died after its upload finished).
    if ((await remote.stat(job.digest)) !== undefined) return;
    const size = (await cache.stat(job.digest))?.size;
    let body: Readable;
    try {
      body = await cache.read(job.digest);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new WriteBackSourceMissingError(job.digest.value);
      throw err;
    }
    try {
      await remote.write(job.digest, body, { ...(size === undefined ? {} : { size }), signal });
    } finally {
      body.destroy();
    }
  }

  const queueClock = options.writeBack.clock;
  const metrics = createBlobStoreMetrics(options.metrics, {
    writeBackStats: () => queue.stats(),
    cacheUsage: () => cache.usage(),
    activeFills: () => readThrough.active(),
    // The queue's wall clock (Date.now unless a test injects one).
    now: () => (queueClock === undefined ? Date.now() : queueClock.now()),
  });
  const queue = createWriteBackQueue({
    ...options.writeBack,
    logger: log,
    perform: writeBack,
    onSettled: (event) => {
      if (event.result === 'success') letGo(event.job.digest, event.job.namespace ?? '');
      metrics.writeBack(event.result);
    },
  });
  const readThrough = createReadThrough({
    cache,
    fillDir: join(options.cacheDir, FILESYSTEM_TEMP_DIR, 'fills'),
    logger: log,
    onFill: (event) => metrics.fill(event.result),
  });
  let closing: Promise<void> | undefined;

  return {
    name: `origin(${cache.name} → ${readSource.name})`,

    async start() {
      for (const job of queue.open()) hold(job.digest, job.namespace, cache.pin(job.digest));
      await cache.start();
      await readThrough.start();
      queue.start();
    },

    stat(digest) {
      return readThrough.stat(digest, readSource);
    },

    read(digest, range) {
      return readThrough.read(digest, readSource, range);
    },

    openFile(digest) {
      return cache.openFile(digest);
    },

    async write(digest, source, writeOptions = {}) {
      const { namespace, ...cacheOptions } = writeOptions;
      // Before the body is read: a namespace without a backend fails the upload now.
      remoteFor(namespace);
      // Pinned before the write lands, or the eviction pass it triggers could take it.
      const unpin = cache.pin(digest);
      try {
        const result = await cache.write(digest, source, cacheOptions);
        queue.enqueue(digest, namespace);
        hold(digest, namespace, unpin);
        return result;
      } catch (err) {
        unpin();
        throw err;
      }
    },

    async adoptFile(digest, file, adoptOptions) {
      const { size, namespace } = adoptOptions;
      remoteFor(namespace);
      await pipeline(
        createReadStream(file),
        new DigestVerifyStream({ expected: digest, expectedSize: size }),
        new Writable({ write: (_chunk, _encoding, callback) => callback() }),
      );
      const unpin = cache.pin(digest);
      try {
        const created = (await cache.stat(digest)) === undefined;
        await cache.adopt(digest, file, size);
        queue.enqueue(digest, namespace);
        hold(digest, namespace, unpin);
        return { size, created };
      } catch (err) {
        unpin();
        throw err;
      }
    },

    async delete(digest) {
      queue.remove(digest);
      letGo(digest);
      let deleted = await cache.delete(digest);
      for (const store of readOrder) deleted = (await store.delete(digest)) || deleted;
      return deleted;
    },

    // What this origin holds itself (the replication sweep walks it), not the
    // backend's whole content, which every origin of the ring shares.
    async list(listOptions) {
      return cache.list(listOptions);
    },

    async check(signal) {
      await Promise.all(readOrder.map((store) => store.check(signal)));
    },

    checkLocal(signal) {
      return cache.check(signal);
    },

    writeBackStats: () => queue.stats(),
    writeBackJobs: () => queue.jobs(),
    retryFailedWriteBacks: () => queue.retryFailed(),
    cacheUsage: () => cache.usage(),
    activeFills: () => readThrough.active(),

    through(source) {
      return {
        name: source.name,
        stat: (digest) => readThrough.prefetch(digest, source),
        read: (digest, range) => readThrough.read(digest, source, range),
      };
    },

    close() {
      closing ??= (async () => {
        await queue.close();
        await readThrough.close();
        await cache.close();
        for (const digest of [...pins.keys()]) pins.delete(digest);
      })();
      return closing;
    },
  };
}
