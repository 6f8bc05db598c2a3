/**
 * The swarm fetcher's test harness: a scheduler whose downloads the test drives, blobs
 * of fake pieces, and a fetcher wired to both that records what it adopts, removes,
 * reports and warns about. Time is the caller's: the timers read `Date.now`, which the
 * tests fake.
 */
import type { Clock } from '@kraken/foundation';
import { parseDigest, type Digest } from '@kraken/oci-content';
import type { Metainfo } from '../metainfo/metainfo.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import type { SchedulerLogger } from '../scheduler/scheduler-deps.js';
import type { BlobStatus, DownloadOptions, SwarmBlobState } from '../scheduler/scheduler-interface.js';
import { createSwarmFetcher, type FetchOutcome, type SwarmFetcherOptions } from '../node/swarm-fetcher.js';

export const PIECE = MIN_PIECE_LENGTH;
export const FALLBACK_MS = 5_000;

/** Timers on vitest's fake clock. */
export const timers: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

let nextBlob = 0;
export function blob(pieces = 4): { digest: Digest; metainfo: Metainfo } {
  const digest = parseDigest(`sha256:${(++nextBlob).toString(16).padStart(64, '0')}`);
  return {
    digest,
    metainfo: {
      digest: digest.value,
      size: pieces * PIECE,
      pieceLength: PIECE,
      pieceHashes: Array.from({ length: pieces }, (_, i) => i.toString(16).padStart(64, '0')),
    },
  };
}

export interface FakeDownload {
  readonly metainfo: Metainfo;
  readonly options: DownloadOptions;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** The scheduler's download/status as the fetcher sees them, driven by the test. */
export function fakeScheduler() {
  const statuses = new Map<string, BlobStatus>();
  const downloads: FakeDownload[] = [];
  const update = (digest: string, change: Partial<BlobStatus>) => {
    const current = statuses.get(digest);
    if (current === undefined) throw new Error(`no download of ${digest}`);
    statuses.set(digest, { ...current, ...change });
  };
  return {
    downloads,
    download(metainfo: Metainfo, options: DownloadOptions): Promise<void> {
      statuses.set(metainfo.digest, {
        metainfoId: `id-${metainfo.digest}`,
        digest: metainfo.digest,
        state: 'downloading',
        piecesDone: 0,
        pieceCount: metainfo.pieceHashes.length,
        peersConnected: 1,
        bytesFromPeers: 0,
        bytesFromOrigins: 0,
        bytesUploaded: 0,
      });
      return new Promise<void>((resolve, reject) => {
        downloads.push({ metainfo, options, resolve, reject });
        options.signal?.addEventListener('abort', () => {
          // As the scheduler does once its last caller is gone.
          statuses.delete(metainfo.digest);
          reject(options.signal?.reason);
        });
      });
    },
    status: (key: string) => statuses.get(key),
    /** Piece i of every blob is PIECE bytes of value i + 1. */
    readPiece: (key: string, index: number) => {
      if (!statuses.has(key)) return Promise.reject(new Error(`${key} is not in the swarm`));
      return Promise.resolve(new Uint8Array(PIECE).fill(index + 1));
    },
    /** Piece bytes arrive from an origin. */
    receive(digest: string, bytes: number) {
      const current = statuses.get(digest);
      update(digest, { bytesFromOrigins: (current?.bytesFromOrigins ?? 0) + bytes });
    },
    setState(digest: string, state: SwarmBlobState) {
      update(digest, { state });
    },
    /** Adopts through the caller's adopter, then leaves (no seeding afterwards). */
    async complete(download: FakeDownload, path = '/partial/blob') {
      await download.options.adopter.adopt(parseDigest(download.metainfo.digest), path);
      statuses.delete(download.metainfo.digest);
      download.resolve();
    },
  };
}

export interface Harness {
  readonly scheduler: ReturnType<typeof fakeScheduler>;
  readonly fetcher: ReturnType<typeof createSwarmFetcher>;
  readonly adopted: string[];
  readonly removed: string[];
  readonly outcomes: FetchOutcome[];
  readonly warnings: { obj: object; msg: string }[];
}

export function setup(
  overrides: Partial<SwarmFetcherOptions> = {},
  metainfoOf?: SwarmFetcherOptions['metainfo'],
) {
  const scheduler = fakeScheduler();
  const adopted: string[] = [];
  const removed: string[] = [];
  const outcomes: FetchOutcome[] = [];
  const warnings: { obj: object; msg: string }[] = [];
  const logger: SchedulerLogger = { debug() {}, info() {}, warn: (obj, msg) => warnings.push({ obj, msg }) };
  const fetcher = createSwarmFetcher({
    scheduler,
    metainfo: metainfoOf ?? (() => Promise.reject(new Error('no metainfo expected'))),
    adopter: {
      adopt: (digest) => {
        adopted.push(digest.value);
        return Promise.resolve();
      },
    },
    pieceStore: {
      remove: (digest) => {
        removed.push(digest.value);
        return Promise.resolve(true);
      },
    },
    fallbackAfterMs: FALLBACK_MS,
    timers,
    logger,
    onFetched: (outcome) => outcomes.push(outcome),
    ...overrides,
  });
  const harness: Harness = { scheduler, fetcher, adopted, removed, outcomes, warnings };
  return harness;
}

/** A direct download the test settles; `calls` counts invocations. */
export function directDownload() {
  let settle: (ok: boolean) => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const direct = {
    calls: 0,
    fn: () => {
      direct.calls++;
      return new Promise<boolean>((resolve, reject) => {
        settle = resolve;
        fail = reject;
      });
    },
    settle: (ok: boolean) => settle(ok),
    fail: (err: unknown) => fail(err),
  };
  return direct;
}

/** Lets promise chains of the fetcher run without moving the clock. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
