/**
 * The swarm fetcher choosing its path (straight from an origin, or through the swarm),
 * keeping records for status, and streaming a blob while the swarm downloads it. Falling
 * back from the swarm is swarm-fetcher-fallback.test.ts.
 */
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Metainfo } from '../metainfo/metainfo.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import {
  blob,
  directDownload,
  fakeScheduler,
  flush,
  setup,
  timers,
  FALLBACK_MS,
  PIECE,
} from '../testing/swarm-fetcher-harness.js';
import { createSwarmFetcher } from './swarm-fetcher.js';

beforeEach(() => {
  // setImmediate stays real: `flush` uses it to let promise chains settle.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

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
