/**
 * How a peer that is not an origin gets a blob: through the swarm when the blob spans
 * more than one piece, straight from an origin otherwise. A swarm download that makes
 * no progress for `fallbackAfterMs` (or cannot start: no metainfo, tracker down) is
 * abandoned for the direct path, and the reason is logged and reported. Verified
 * pieces of an abandoned download stay on disk until the direct copy lands, then go.
 *
 * Callers deduplicate concurrent fetches of one digest; this keeps the outcome of
 * recent fetches for the status endpoint.
 */
import type { Clock } from '@kraken/foundation';
import type { Readable } from 'node:stream';
import type { Digest } from '@kraken/oci-content';
import type { Metrics } from '@kraken/service-kit';
import { createProgressiveStream } from './progressive-stream.js';
import { createFetcherMetrics } from './swarm-metrics.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import { loadPieceHashing, type Metainfo } from '../metainfo/metainfo.js';
import type { BlobAdopter } from '../storage/partial-blob.js';
import type { PieceStore } from '../storage/piece-store.js';
import type { BlobStatus, Scheduler } from '../scheduler/scheduler-interface.js';
import type { SchedulerLogger } from '../scheduler/scheduler-deps.js';
import type { PieceReader } from '../storage/piece-reader.js';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';

/** How a blob was fetched: the swarm, an origin directly, or an origin after the swarm failed. */
export type FetchPath = 'swarm' | 'direct' | 'fallback';

export interface FetchStatus {
  readonly digest: string;
  readonly path: FetchPath;
  readonly state: 'running' | 'done' | 'failed';
  /** Why the direct path was taken, when it was. */
  readonly reason?: string | undefined;
  /** The swarm's view (live, or as last seen); absent for direct fetches. */
  readonly swarm?: BlobStatus | undefined;
}

export interface FetchOutcome {
  readonly digest: string;
  readonly path: FetchPath;
  readonly reason?: string | undefined;
  readonly swarm?: BlobStatus | undefined;
  readonly ok: boolean;
}

export interface SwarmFetcherOptions {
  /** Without `readPiece`, clients wait for the whole blob (no live reads). */
  readonly scheduler: Pick<Scheduler, 'download' | 'status'> & Partial<Pick<Scheduler, 'readPiece'>>;
  /** The blob's metainfo (from the tracker); undefined when no origin holds the blob. */
  readonly metainfo: (digest: Digest, signal: AbortSignal) => Promise<Metainfo | undefined>;
  /** Receives the verified blob. */
  readonly adopter: BlobAdopter;
  /** Reads pieces of the adopted blob, so that it seeds after completion. */
  readonly readPiece?: ((metainfo: Metainfo) => PieceReader) | undefined;
  /** Where abandoned partial downloads are removed from. */
  readonly pieceStore?: Pick<PieceStore, 'remove'> | undefined;
  /** A swarm download that receives nothing this long falls back to the direct path (ms). */
  readonly fallbackAfterMs: number;
  /** How often progress is sampled (ms, default 1 s). */
  readonly sampleMs?: number | undefined;
  readonly timers: Clock;
  readonly logger: SchedulerLogger;
  /** Registers `blob_fetches_total` and `swarm_bytes_total` on it (swarm-metrics.ts). */
  readonly metrics?: Metrics | undefined;
  /** Called once per finished fetch, with how it went (tests observe fetches through it). */
  readonly onFetched?: ((outcome: FetchOutcome) => void) | undefined;
  /** Fetches remembered for `status()` (default 1,024). */
  readonly maxRecords?: number | undefined;
  /** Live reads go through buffers of this pool (the peer node's `buffers`). */
  readonly buffers?: PieceBufferPool | undefined;
}

export interface FetchRequest {
  /** The blob's size when known: a blob of one piece or less skips the swarm. */
  readonly size?: number | undefined;
  /** Fetches the blob straight from an origin into the same place; false when none has it. */
  readonly direct: () => Promise<boolean>;
}

export interface LiveReadRequest {
  /** Inclusive byte range; the whole blob by default. */
  readonly range?: { readonly start: number; readonly end: number } | undefined;
  /** The fetch of this blob (as started by the caller): true once the blob is stored. */
  readonly done: Promise<boolean>;
  /** Streams a byte range of the stored blob. */
  readonly resume: (range: { start: number; end: number }) => Promise<Readable>;
}

export interface SwarmFetcher {
  /** Resolves true once the blob was adopted, false when no origin holds it. */
  fetch(digest: Digest, request: FetchRequest): Promise<boolean>;
  /**
   * Once the caller's fetch of the blob has started: a stream of the blob that follows
   * the swarm download piece by piece (see progressive-stream.ts), or undefined when
   * the blob does not come through the swarm (the caller then waits for `done`).
   */
  openLive(digest: Digest, request: LiveReadRequest): Promise<Readable | undefined>;
  /** The running or most recent fetch of a blob. */
  status(digest: string): FetchStatus | undefined;
}

interface FetchRecord {
  path: FetchPath;
  state: FetchStatus['state'];
  reason: string | undefined;
  swarm: BlobStatus | undefined;
}

/** The swarm gave up; the message says why, for the log and the status endpoint. */
class SwarmStall extends Error {}

export function createSwarmFetcher(options: SwarmFetcherOptions): SwarmFetcher {
  const { scheduler, timers, logger } = options;
  const sampleMs = Math.min(options.sampleMs ?? 1_000, options.fallbackAfterMs);
  const maxRecords = options.maxRecords ?? 1024;
  const metrics = createFetcherMetrics(options.metrics);
  const records = new Map<string, FetchRecord>();
  /** Swarm downloads running now, by digest. */
  const live = new Map<string, Metainfo>();
  /** Per digest: settles with the metainfo once its swarm download started, or undefined. */
  const starts = new Map<string, Deferred<Metainfo | undefined>>();

  function startOf(digest: string): Deferred<Metainfo | undefined> {
    let deferred = starts.get(digest);
    if (deferred === undefined) {
      deferred = deferredValue();
      starts.set(digest, deferred);
    }
    return deferred;
  }

  function settleStart(digest: string, metainfo: Metainfo | undefined): void {
    const deferred = starts.get(digest);
    if (deferred === undefined) return;
    starts.delete(digest);
    deferred.resolve(metainfo);
  }

  function remember(digest: string, record: FetchRecord): void {
    records.delete(digest);
    records.set(digest, record);
    while (records.size > maxRecords) records.delete(records.keys().next().value as string);
  }

  /** Resolves once adopted; rejects with SwarmStall (or the scheduler's error) otherwise. */
  async function viaSwarm(digest: Digest, record: FetchRecord, metainfo: Metainfo): Promise<void> {
    const controller = new AbortController();
    const received = () => {
      const status = scheduler.status(metainfo.digest);
      if (status !== undefined) record.swarm = status;
      return (record.swarm?.bytesFromPeers ?? 0) + (record.swarm?.bytesFromOrigins ?? 0);
    };
    const downloading = scheduler.download(metainfo, {
      adopter: {
        // The last view with every byte counted: a blob that does not seed afterwards
        // leaves the scheduler (and its status) as soon as it is adopted.
        adopt: (adopted, path) => {
          received();
          return options.adopter.adopt(adopted, path);
        },
      },
      signal: controller.signal,
      readPiece: options.readPiece?.(metainfo),
    });
    // Live readers may follow it from here (the scheduler knows the blob now).
    live.set(digest.value, metainfo);
    settleStart(digest.value, metainfo);
    // Bytes already there (a download another caller started) are not progress of ours.
    let last = received();
    let lastProgressAt = timers.now();
    const sample = () => {
      const bytes = received();
      const now = timers.now();
      // Hashing and adopting a complete blob receives nothing for a while, yet is no stall.
      if (bytes !== last || record.swarm?.state === 'completing') {
        last = bytes;
        lastProgressAt = now;
      } else if (now - lastProgressAt >= options.fallbackAfterMs) {
        controller.abort(new SwarmStall(`no piece arrived for ${options.fallbackAfterMs} ms`));
        return;
      }
      handle = timers.setTimeout(sample, sampleMs);
    };
    let handle = timers.setTimeout(sample, sampleMs);
    try {
      await downloading;
    } finally {
      timers.clearTimeout(handle);
      received();
    }
    logger.debug({ blob: digest.value }, 'swarm download adopted');
  }

  /** The metainfo, or a rejection once `fallbackAfterMs` passed, whether or not the source honours its signal. */
  async function metainfoOf(digest: Digest): Promise<Metainfo | undefined> {
    const controller = new AbortController();
    let timedOut: (err: Error) => void = () => undefined;
    const timeout = new Promise<never>((_resolve, reject) => (timedOut = reject));
    const handle = timers.setTimeout(() => {
      const err = new SwarmStall(`no metainfo within ${options.fallbackAfterMs} ms`);
      controller.abort(err);
      timedOut(err);
    }, options.fallbackAfterMs);
    try {
      return await Promise.race([options.metainfo(digest, controller.signal), timeout]);
    } finally {
      timers.clearTimeout(handle);
    }
  }

  async function fetchBlob(digest: Digest, request: FetchRequest, record: FetchRecord): Promise<boolean> {
    if (request.size !== undefined && request.size <= MIN_PIECE_LENGTH) {
      return request.direct();
    }
    let metainfo: Metainfo | undefined;
    try {
      metainfo = await metainfoOf(digest);
    } catch (err) {
      return fallback(digest, request, record, `metainfo unavailable: ${message(err)}`);
    }
    if (metainfo === undefined) {
      // No origin holds it according to the tracker; the origin says so for certain.
      return request.direct();
    }
    if (metainfo.pieceHashes.length <= 1) return request.direct();
    try {
      // Checked before joining: a node that cannot check a piece must not blame its peers.
      await loadPieceHashing(metainfo);
    } catch (err) {
      return fallback(digest, request, record, `piece hashes cannot be checked: ${message(err)}`);
    }
    record.path = 'swarm';
    try {
      await viaSwarm(digest, record, metainfo);
      return true;
    } catch (err) {
      return fallback(digest, request, record, `swarm failed: ${message(err)}`);
    }
  }

  async function fallback(
    digest: Digest,
    request: FetchRequest,
    record: FetchRecord,
    reason: string,
  ): Promise<boolean> {
    record.path = 'fallback';
    record.reason = reason;
    logger.warn({ blob: digest.value, reason }, 'falling back to a direct origin download');
    const ok = await request.direct();
    if (ok && options.pieceStore !== undefined) {
      await options.pieceStore.remove(digest).catch((err: unknown) => {
        logger.warn({ blob: digest.value, err }, 'removing an abandoned partial download failed');
      });
    }
    return ok;
  }

  return {
    async fetch(digest, request) {
      const record: FetchRecord = { path: 'direct', state: 'running', reason: undefined, swarm: undefined };
      remember(digest.value, record);
      let ok = false;
      try {
        ok = await fetchBlob(digest, request, record);
        record.state = ok ? 'done' : 'failed';
        return ok;
      } catch (err) {
        record.state = 'failed';
        throw err;
      } finally {
        live.delete(digest.value);
        settleStart(digest.value, undefined);
        const outcome: FetchOutcome = {
          digest: digest.value,
          path: record.path,
          reason: record.reason,
          swarm: record.swarm,
          ok,
        };
        metrics.fetched(outcome);
        options.onFetched?.(outcome);
      }
    },

    async openLive(digest, request) {
      const readPiece = scheduler.readPiece;
      if (readPiece === undefined) return undefined;
      let metainfo = live.get(digest.value);
      if (metainfo === undefined) {
        const deferred = startOf(digest.value);
        // A fetch that never reaches the swarm settles it too, through `done`.
        void request.done.then(
          () => settleStart(digest.value, undefined),
          () => settleStart(digest.value, undefined),
        );
        metainfo = await deferred.promise;
      }
      if (metainfo === undefined) return undefined;
      const info = metainfo;
      return createProgressiveStream({
        metainfo: info,
        range: request.range,
        readPiece: (index, signal, into) => readPiece(info.digest, index, { signal, into }),
        done: request.done,
        resume: request.resume,
        buffers: options.buffers,
      });
    },

    status(digest) {
      const record = records.get(digest);
      if (record === undefined) return undefined;
      const live = record.path === 'direct' ? undefined : scheduler.status(digest);
      return {
        digest,
        path: record.path,
        state: record.state,
        ...(record.reason === undefined ? {} : { reason: record.reason }),
        ...((live ?? record.swarm) === undefined ? {} : { swarm: live ?? record.swarm }),
      };
    },
  };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

function deferredValue<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
