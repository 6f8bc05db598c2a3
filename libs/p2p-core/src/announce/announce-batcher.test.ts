import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '@kraken/service-kit';
import { createAnnounceBatcher } from './announce-batcher.js';
import type { AnnounceRequest } from './announce-protocol.js';
import type { AnnounceOutcome } from './tracker-ring-client.js';

afterEach(() => {
  vi.useRealTimers();
});

const timers = {
  setTimeout: (cb: () => void, ms: number) => setTimeout(cb, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};
const blobOf = (i: number) => `sha256:${String(i).repeat(64)}`;
const announceOf = (i: number, complete = false): AnnounceRequest => ({
  peerId: 'a'.repeat(40),
  address: { host: '10.0.0.1', port: 16001 },
  blob: blobOf(i),
  complete,
});
const peerOf = (i: number) => ({
  peerId: String(i).repeat(40),
  host: '10.0.0.2',
  port: 1,
  complete: true,
  origin: false,
});

/** A client that records each call and answers each blob with one peer named after it. */
function recordingClient(fail: (request: AnnounceRequest) => unknown = () => undefined) {
  const calls: AnnounceRequest[][] = [];
  return {
    calls,
    announceMany: async (requests: readonly AnnounceRequest[]): Promise<AnnounceOutcome[]> => {
      calls.push([...requests]);
      return requests.map((request) => {
        const error = fail(request);
        if (error !== undefined) return { ok: false, error };
        return { ok: true, value: { peers: [peerOf(Number(request.blob.at(-1)))], intervalSeconds: 3 } };
      });
    },
  };
}

describe('announce batcher', () => {
  it('sends the announces of one window as one call, and each gets its own answer', async () => {
    vi.useFakeTimers();
    const client = recordingClient();
    const batcher = createAnnounceBatcher({ client, timers, windowMs: 10 });
    const first = batcher.announce(announceOf(1));
    vi.advanceTimersByTime(9);
    const second = batcher.announce(announceOf(2));
    expect(batcher.queued).toBe(2);
    expect(client.calls).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(client.calls.map((c) => c.map((r) => r.blob))).toEqual([[blobOf(1), blobOf(2)]]);
    expect((await first).peers).toEqual([peerOf(1)]);
    expect((await second).peers).toEqual([peerOf(2)]);
    // The next window starts afresh.
    const third = batcher.announce(announceOf(3));
    vi.advanceTimersByTime(10);
    expect(client.calls).toHaveLength(2);
    expect((await third).peers).toEqual([peerOf(3)]);
  });

  it('sends a blob announced twice in a window once, as its latest announce, answering both', async () => {
    vi.useFakeTimers();
    const client = recordingClient();
    const batcher = createAnnounceBatcher({ client, timers });
    const before = batcher.announce(announceOf(1));
    const after = batcher.announce(announceOf(1, true));
    vi.advanceTimersByTime(10);
    expect(client.calls).toEqual([[announceOf(1, true)]]);
    expect(await before).toEqual(await after);
  });

  it('fails only the announces that failed, and counts both', async () => {
    vi.useFakeTimers();
    const metrics = createMetrics('agent', { defaultMetrics: false });
    const client = recordingClient((r) => (r.blob === blobOf(2) ? new Error('tracker down') : undefined));
    const batcher = createAnnounceBatcher({ client, timers, metrics });
    const ok = batcher.announce(announceOf(1));
    const failed = batcher.announce(announceOf(2));
    const alsoOk = batcher.announce(announceOf(3));
    vi.advanceTimersByTime(10);
    await expect(failed).rejects.toThrow('tracker down');
    expect((await ok).peers).toEqual([peerOf(1)]);
    expect((await alsoOk).peers).toEqual([peerOf(3)]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^kraken_agent_tracker_announces_total\{result="ok"\} 2$/m);
    expect(text).toMatch(/^kraken_agent_tracker_announces_total\{result="error"\} 1$/m);
    expect(text).toMatch(/^kraken_agent_tracker_announce_batch_blobs_sum 3$/m);
    expect(text).toMatch(/^kraken_agent_tracker_announce_batch_blobs_count 1$/m);
  });

  it('fails every announce of a call that failed as a whole', async () => {
    vi.useFakeTimers();
    const batcher = createAnnounceBatcher({
      client: { announceMany: () => Promise.reject(new Error('closed')) },
      timers,
    });
    const both = [batcher.announce(announceOf(1)), batcher.announce(announceOf(2))];
    vi.advanceTimersByTime(10);
    for (const p of both) await expect(p).rejects.toThrow('closed');
  });

  it('rejects what is queued on close, and later announces at once', async () => {
    vi.useFakeTimers();
    const client = recordingClient();
    const batcher = createAnnounceBatcher({ client, timers });
    const queued = batcher.announce(announceOf(1));
    batcher.close();
    await expect(queued).rejects.toMatchObject({ code: 'KRAKEN_P2P_SWARM_STOPPED' });
    await expect(batcher.announce(announceOf(2))).rejects.toMatchObject({ code: 'KRAKEN_P2P_SWARM_STOPPED' });
    vi.advanceTimersByTime(100);
    expect(client.calls).toHaveLength(0);
  });
});
