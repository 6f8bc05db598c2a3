/**
 * The swarm fetcher falling back to a direct origin download: when the swarm stalls or
 * gives up, or when no metainfo can be had, and what happens to the partial download.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { blob, directDownload, flush, setup, FALLBACK_MS, PIECE } from '../testing/swarm-fetcher-harness.js';

beforeEach(() => {
  // setImmediate stays real: `flush` uses it to let promise chains settle.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Moves the fake clock, then lets what the timers started settle. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
}

describe('createSwarmFetcher: falling back from the swarm', () => {
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
