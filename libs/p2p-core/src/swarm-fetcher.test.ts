import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDigest, type Digest } from '@kraken/oci-content';
import type { Metainfo } from './metainfo.js';
import { MIN_PIECE_LENGTH } from './piece-length.js';
import type { DownloadOptions } from './scheduler-api.js';
import type { SchedulerLogger, SchedulerTimers } from './scheduler-options.js';
import type { BlobStatus, SwarmBlobState } from './swarm-blob.js';
import { createSwarmFetcher, type FetchOutcome, type SwarmFetcherOptions } from './swarm-fetcher.js';

const PIECE = MIN_PIECE_LENGTH;
const FALLBACK_MS = 5_000;

/** Timers on vitest's fake clock. */
const timers: SchedulerTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

beforeEach(() => {
  // setImmediate stays real: `flush` uses it to let promise chains settle.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

let nextBlob = 0;
function blob(pieces = 4): { digest: Digest; metainfo: Metainfo } {
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

interface FakeDownload {
  readonly metainfo: Metainfo;
  readonly options: DownloadOptions;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** The scheduler's download/status as the fetcher sees them, driven by the test. */
function fakeScheduler() {
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

interface Harness {
  readonly scheduler: ReturnType<typeof fakeScheduler>;
  readonly fetcher: ReturnType<typeof createSwarmFetcher>;
  readonly adopted: string[];
  readonly removed: string[];
  readonly outcomes: FetchOutcome[];
  readonly warnings: { obj: object; msg: string }[];
}

function setup(overrides: Partial<SwarmFetcherOptions> = {}, metainfoOf?: SwarmFetcherOptions['metainfo']) {
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
function directDownload() {
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
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Moves the fake clock, then lets what the timers started settle. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
}

describe('createSwarmFetcher: direct path', () => {
  it('takes a blob of at most one piece straight from the origin, without asking for metainfo', async () => {
    const metainfo = vi.fn(() => Promise.resolve(undefined));
    const { fetcher, scheduler, outcomes } = setup({ metainfo });
    const { digest } = blob();
    const direct = vi.fn(() => Promise.resolve(true));
    expect(await fetcher.fetch(digest, { size: MIN_PIECE_LENGTH, direct })).toBe(true);
    expect(direct).toHaveBeenCalledTimes(1);
    expect(metainfo).not.toHaveBeenCalled();
    expect(scheduler.downloads).toHaveLength(0);
    expect(fetcher.status(digest.value)).toEqual({ digest: digest.value, path: 'direct', state: 'done' });
    expect(outcomes).toEqual([
      { digest: digest.value, path: 'direct', reason: undefined, swarm: undefined, ok: true },
    ]);
  });

  it('goes direct when the tracker knows no metainfo (no origin holds the blob)', async () => {
    const { digest } = blob();
    const { fetcher, scheduler, removed } = setup({}, () => Promise.resolve(undefined));
    expect(await fetcher.fetch(digest, { size: 10 * PIECE, direct: () => Promise.resolve(false) })).toBe(
      false,
    );
    expect(scheduler.downloads).toHaveLength(0);
    expect(removed).toEqual([]);
    expect(fetcher.status(digest.value)).toEqual({ digest: digest.value, path: 'direct', state: 'failed' });
  });

  it('goes direct for single-piece metainfo when the size was not known', async () => {
    const { digest, metainfo } = blob(1);
    const { fetcher, scheduler, outcomes } = setup({}, () => Promise.resolve(metainfo));
    expect(await fetcher.fetch(digest, { direct: () => Promise.resolve(true) })).toBe(true);
    expect(scheduler.downloads).toHaveLength(0);
    expect(outcomes[0]).toMatchObject({ path: 'direct', ok: true });
  });

  it('reports a direct download that throws as failed, once', async () => {
    const { digest } = blob();
    const { fetcher, outcomes } = setup();
    await expect(
      fetcher.fetch(digest, { size: 1, direct: () => Promise.reject(new Error('origin unreachable')) }),
    ).rejects.toThrow('origin unreachable');
    expect(fetcher.status(digest.value)?.state).toBe('failed');
    expect(outcomes).toEqual([expect.objectContaining({ path: 'direct', ok: false })]);
  });
});

describe('createSwarmFetcher: swarm path', () => {
  it('downloads through the scheduler and keeps the final swarm view after the blob left it', async () => {
    const { digest, metainfo } = blob(4);
    const readPiece = vi.fn(() => () => Promise.resolve(new Uint8Array()));
    const h = setup({ readPiece }, (asked, signal) => {
      expect(asked).toBe(digest);
      expect(signal.aborted).toBe(false);
      return Promise.resolve(metainfo);
    });
    const direct = directDownload();
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: direct.fn });
    await flush();
    const [download] = h.scheduler.downloads;
    if (download === undefined) throw new Error('no swarm download started');
    expect(download.metainfo).toBe(metainfo);
    expect(readPiece).toHaveBeenCalledWith(metainfo);
    expect(download.options.readPiece).toBe(readPiece.mock.results[0]?.value);
    expect(h.fetcher.status(digest.value)).toMatchObject({
      path: 'swarm',
      state: 'running',
      swarm: { state: 'downloading', bytesFromOrigins: 0 },
    });
    h.scheduler.receive(digest.value, metainfo.size);
    await h.scheduler.complete(download);
    expect(await fetching).toBe(true);
    expect(direct.calls).toBe(0);
    expect(h.adopted).toEqual([digest.value]);
    expect(h.removed).toEqual([]);
    const status = h.fetcher.status(digest.value);
    expect(status).toMatchObject({
      path: 'swarm',
      state: 'done',
      swarm: { bytesFromOrigins: metainfo.size },
    });
    expect(status).not.toHaveProperty('reason');
    expect(h.outcomes).toEqual([
      {
        digest: digest.value,
        path: 'swarm',
        reason: undefined,
        swarm: expect.objectContaining({ bytesFromOrigins: metainfo.size }),
        ok: true,
      },
    ]);
  });

  it('falls back to the origin after fallbackAfterMs without a byte, then removes the partial download', async () => {
    const { digest, metainfo } = blob(4);
    const h = setup({}, () => Promise.resolve(metainfo));
    const direct = directDownload();
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: direct.fn });
    await flush();
    const signal = h.scheduler.downloads[0]?.options.signal;
    await advance(FALLBACK_MS - 1);
    expect(direct.calls).toBe(0);
    expect(signal?.aborted).toBe(false);
    await advance(1);
    expect(signal?.aborted).toBe(true);
    expect(direct.calls).toBe(1);
    const reason = `swarm failed: no piece arrived for ${FALLBACK_MS} ms`;
    expect(h.fetcher.status(digest.value)).toMatchObject({ path: 'fallback', state: 'running', reason });
    expect(h.warnings).toEqual([
      { obj: { blob: digest.value, reason }, msg: 'falling back to a direct origin download' },
    ]);
    // Verified pieces stay until the direct copy landed.
    expect(h.removed).toEqual([]);
    direct.settle(true);
    expect(await fetching).toBe(true);
    expect(h.removed).toEqual([digest.value]);
    expect(h.fetcher.status(digest.value)).toMatchObject({ path: 'fallback', state: 'done', reason });
    expect(h.outcomes).toEqual([expect.objectContaining({ path: 'fallback', reason, ok: true })]);
  });

  it('keeps waiting while pieces keep arriving, and falls back once they stop', async () => {
    const { digest, metainfo } = blob(16);
    const h = setup({}, () => Promise.resolve(metainfo));
    const direct = directDownload();
    void h.fetcher.fetch(digest, { size: metainfo.size, direct: direct.fn });
    await flush();
    // A piece every 3.5 s: never 5 s without one.
    for (let i = 0; i < 4; i++) {
      await advance(3_500);
      h.scheduler.receive(digest.value, PIECE);
    }
    expect(direct.calls).toBe(0);
    // The last piece (t = 14 s) was seen by the sample at 15 s: the swarm has until 20 s.
    await advance(20_000 - 14_000 - 1);
    expect(direct.calls).toBe(0);
    await advance(1);
    expect(direct.calls).toBe(1);
    expect(h.fetcher.status(digest.value)?.swarm?.bytesFromOrigins).toBe(4 * PIECE);
  });

  it('does not take the hashing and adoption of a complete blob for a stall', async () => {
    const { digest, metainfo } = blob(4);
    const h = setup({}, () => Promise.resolve(metainfo));
    const direct = directDownload();
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: direct.fn });
    await flush();
    h.scheduler.receive(digest.value, metainfo.size);
    h.scheduler.setState(digest.value, 'completing');
    await advance(3 * FALLBACK_MS);
    expect(direct.calls).toBe(0);
    const [download] = h.scheduler.downloads;
    if (download === undefined) throw new Error('no swarm download started');
    await h.scheduler.complete(download);
    expect(await fetching).toBe(true);
    expect(h.fetcher.status(digest.value)?.path).toBe('swarm');
  });

  it('samples at the fallback interval when it is shorter than sampleMs', async () => {
    const { digest, metainfo } = blob(4);
    const h = setup({ fallbackAfterMs: 300, sampleMs: 1_000 }, () => Promise.resolve(metainfo));
    const direct = directDownload();
    void h.fetcher.fetch(digest, { size: metainfo.size, direct: direct.fn });
    await flush();
    await advance(299);
    expect(direct.calls).toBe(0);
    await advance(1);
    expect(direct.calls).toBe(1);
    expect(h.fetcher.status(digest.value)?.reason).toBe('swarm failed: no piece arrived for 300 ms');
  });

  it('falls back when the scheduler gives up, with its error as the reason', async () => {
    const { digest, metainfo } = blob(4);
    const h = setup({}, () => Promise.resolve(metainfo));
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: () => Promise.resolve(true) });
    await flush();
    h.scheduler.downloads[0]?.reject(new Error('swarm of the blob stopped'));
    expect(await fetching).toBe(true);
    expect(h.fetcher.status(digest.value)).toMatchObject({
      path: 'fallback',
      state: 'done',
      reason: 'swarm failed: swarm of the blob stopped',
    });
    expect(h.removed).toEqual([digest.value]);
  });

  it('marks a fallback whose origin lacks the blob as failed and keeps the partial download', async () => {
    const { digest, metainfo } = blob(4);
    const h = setup({}, () => Promise.resolve(metainfo));
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: () => Promise.resolve(false) });
    await advance(FALLBACK_MS);
    expect(await fetching).toBe(false);
    expect(h.fetcher.status(digest.value)).toMatchObject({ path: 'fallback', state: 'failed' });
    expect(h.removed).toEqual([]);
    expect(h.outcomes).toEqual([expect.objectContaining({ path: 'fallback', ok: false })]);
  });

  it('still succeeds when removing the abandoned partial download fails, and says so', async () => {
    const { digest, metainfo } = blob(4);
    const h = setup({ pieceStore: { remove: () => Promise.reject(new Error('EBUSY')) } }, () =>
      Promise.resolve(metainfo),
    );
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: () => Promise.resolve(true) });
    await advance(FALLBACK_MS);
    expect(await fetching).toBe(true);
    expect(h.warnings.map((w) => w.msg)).toContain('removing an abandoned partial download failed');
  });
});

describe('createSwarmFetcher: metainfo failures', () => {
  it('falls back when the tracker fails', async () => {
    const { digest } = blob(4);
    const h = setup({}, () => Promise.reject(new Error('tracker unreachable')));
    expect(await h.fetcher.fetch(digest, { size: 4 * PIECE, direct: () => Promise.resolve(true) })).toBe(
      true,
    );
    expect(h.scheduler.downloads).toHaveLength(0);
    expect(h.fetcher.status(digest.value)).toEqual({
      digest: digest.value,
      path: 'fallback',
      state: 'done',
      reason: 'metainfo unavailable: tracker unreachable',
    });
    expect(h.outcomes).toEqual([expect.objectContaining({ path: 'fallback', ok: true })]);
  });

  it('gives up on metainfo after fallbackAfterMs even when the source ignores its signal', async () => {
    const { digest } = blob(4);
    let seen: AbortSignal | undefined;
    const h = setup({}, (_digest, signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    });
    const direct = directDownload();
    const fetching = h.fetcher.fetch(digest, { size: 4 * PIECE, direct: direct.fn });
    await advance(FALLBACK_MS - 1);
    expect(direct.calls).toBe(0);
    await advance(1);
    expect(seen?.aborted).toBe(true);
    expect(direct.calls).toBe(1);
    direct.settle(true);
    expect(await fetching).toBe(true);
    expect(h.fetcher.status(digest.value)?.reason).toBe(
      `metainfo unavailable: no metainfo within ${FALLBACK_MS} ms`,
    );
  });
});

describe('createSwarmFetcher: records', () => {
  it('forgets the oldest fetches past maxRecords', async () => {
    const h = setup({ maxRecords: 2 });
    const [a, b, c] = [blob().digest, blob().digest, blob().digest];
    const direct = () => Promise.resolve(true);
    await h.fetcher.fetch(a, { size: 1, direct });
    await h.fetcher.fetch(b, { size: 1, direct });
    // Fetched again: now the most recent.
    await h.fetcher.fetch(a, { size: 1, direct });
    await h.fetcher.fetch(c, { size: 1, direct });
    expect(h.fetcher.status(b.value)).toBeUndefined();
    expect(h.fetcher.status(a.value)?.state).toBe('done');
    expect(h.fetcher.status(c.value)?.state).toBe('done');
    expect(h.fetcher.status(blob().digest.value)).toBeUndefined();
    expect(h.outcomes).toHaveLength(4);
  });
});

describe('createSwarmFetcher: live reads', () => {
  const noResume = () => Promise.reject(new Error('the swarm should have served it'));

  async function collect(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }

  it('streams the blob from the swarm download once it started', async () => {
    const { digest, metainfo } = blob(2);
    let release: (m: Metainfo) => void = () => undefined;
    const h = setup({}, () => new Promise((resolve) => (release = resolve)));
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: () => Promise.resolve(false) });
    const range = { start: PIECE - 3, end: PIECE + 2 };
    // Asked before the fetch knows whether the swarm is used.
    const early = h.fetcher.openLive(digest, { range, done: fetching, resume: noResume });
    await flush();
    release(metainfo);
    const stream = await early;
    if (stream === undefined) throw new Error('no live stream');
    // Asked while the download runs.
    const late = await h.fetcher.openLive(digest, { done: fetching, resume: noResume });
    expect(late).toBeDefined();
    late?.destroy();
    const body = collect(stream);
    // Both pieces read from the swarm; the last bytes wait for the verified blob.
    for (let i = 0; i < 3; i++) await flush();
    const [download] = h.scheduler.downloads;
    if (download === undefined) throw new Error('no swarm download started');
    h.scheduler.receive(digest.value, metainfo.size);
    await h.scheduler.complete(download);
    expect(await fetching).toBe(true);
    expect([...(await body)]).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('has no live stream for a blob fetched directly', async () => {
    const { digest } = blob(2);
    const h = setup();
    const fetching = h.fetcher.fetch(digest, { size: 1, direct: () => Promise.resolve(true) });
    expect(await h.fetcher.openLive(digest, { done: fetching, resume: noResume })).toBeUndefined();
  });

  it('has no live stream when the scheduler cannot read pieces', async () => {
    const { digest, metainfo } = blob(2);
    const { download, status } = fakeScheduler();
    const fetcher = createSwarmFetcher({
      scheduler: { download, status },
      metainfo: () => Promise.resolve(metainfo),
      adopter: { adopt: () => Promise.resolve() },
      fallbackAfterMs: FALLBACK_MS,
      timers,
      logger: { debug() {}, info() {}, warn() {} },
    });
    const done = new Promise<boolean>(() => undefined);
    expect(await fetcher.openLive(digest, { done, resume: noResume })).toBeUndefined();
  });
});
