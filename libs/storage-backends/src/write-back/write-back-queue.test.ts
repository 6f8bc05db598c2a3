import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { digestOf, type Digest } from '@kraken/oci-content';
import { WriteBackSourceMissingError } from '../errors.js';
import {
  createWriteBackQueue,
  type WriteBackJob,
  type WriteBackQueue,
  type WriteBackQueueOptions,
  type WriteBackResult,
} from './write-back-queue.js';

let dir: string;
const queues: WriteBackQueue[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'write-back-queue-'));
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 1_000_000 });
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(queues.splice(0).map((q) => q.close()));
  await rm(dir, { recursive: true, force: true });
});

const d = (name: string): Digest => digestOf(name);
/** Lets settled promises run their continuations (setImmediate is not faked). */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function open(overrides: Partial<WriteBackQueueOptions> & Pick<WriteBackQueueOptions, 'perform'>) {
  const settled: { digest: string; result: WriteBackResult }[] = [];
  const queue = createWriteBackQueue({
    dbPath: join(dir, 'state', 'write-back.db'),
    concurrency: 4,
    random: () => 0,
    onSettled: ({ job, result }) => settled.push({ digest: job.digest.value, result }),
    ...overrides,
  });
  queues.push(queue);
  return { queue, settled };
}

/** A perform whose calls wait until the test settles them. */
function controlledPerform() {
  const calls: {
    job: WriteBackJob;
    resolve: () => void;
    reject: (err: unknown) => void;
    signal: AbortSignal;
  }[] = [];
  const perform = (job: WriteBackJob, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ job, resolve, reject, signal });
      signal.addEventListener('abort', () => reject(signal.reason));
    });
  return { perform, calls };
}

describe('write-back queue', () => {
  it('keeps jobs across a reopen and resumes them on start', async () => {
    const first = open({ perform: () => new Promise(() => {}) });
    first.queue.open();
    expect(first.queue.enqueue(d('a'), 'library/alpine')).toBe(true);
    expect(first.queue.enqueue(d('a'), 'library/alpine')).toBe(false);
    expect(first.queue.enqueue(d('b'))).toBe(true);
    await first.queue.close();

    const { perform, calls } = controlledPerform();
    const second = open({ perform });
    const resumed = second.queue.open();
    expect(resumed.map((j) => [j.digest.value, j.namespace, j.state])).toEqual([
      [d('a').value, 'library/alpine', 'pending'],
      [d('b').value, undefined, 'pending'],
    ]);
    expect(second.queue.stats()).toMatchObject({ pending: 2, failed: 0, oldestPendingAt: 1_000_000 });
    second.queue.start();
    await flush();
    expect(calls.map((c) => c.job.digest.value)).toEqual([d('a').value, d('b').value]);
    for (const call of calls) call.resolve();
    await flush();
    expect(second.settled.map((s) => s.result)).toEqual(['success', 'success']);
    expect(second.queue.jobs()).toEqual([]);
    expect(second.queue.stats()).toEqual({ pending: 0, failed: 0, running: 0, oldestPendingAt: undefined });
  });

  it('retries with exponential backoff, capped, then succeeds', async () => {
    let attempts = 0;
    const at: number[] = [];
    const { queue, settled } = open({
      backoff: { initialMs: 1000, multiplier: 2, maxMs: 3000 },
      perform: async () => {
        at.push(Date.now() - 1_000_000);
        attempts += 1;
        if (attempts <= 3) throw new Error('backend down');
      },
    });
    queue.start();
    queue.enqueue(d('x'));
    await flush();
    expect(at).toEqual([0]);
    expect(queue.jobs()[0]).toMatchObject({
      attempts: 1,
      lastError: 'backend down',
      nextAttemptAt: 1_001_000,
    });

    await vi.advanceTimersByTimeAsync(999);
    await flush();
    expect(at).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(at).toEqual([0, 1000]);
    // 2000 after the second failure, then 4000 capped to 3000 after the third.
    await vi.advanceTimersByTimeAsync(2000);
    await flush();
    await vi.advanceTimersByTimeAsync(3000);
    await flush();
    expect(at).toEqual([0, 1000, 3000, 6000]);
    expect(settled.map((s) => s.result)).toEqual(['retry', 'retry', 'retry', 'success']);
    expect(queue.jobs()).toEqual([]);
  });

  it('takes a random fraction of each delay off, up to the jitter', async () => {
    const { queue } = open({
      random: () => 0.5,
      backoff: { initialMs: 1000, jitter: 0.2 },
      perform: () => Promise.reject(new Error('nope')),
    });
    queue.start();
    queue.enqueue(d('j'));
    await flush();
    expect(queue.jobs()[0]?.nextAttemptAt).toBe(1_000_000 + 900);
  });

  it('never runs more than `concurrency` write-backs at once', async () => {
    const { perform, calls } = controlledPerform();
    const { queue, settled } = open({ concurrency: 2, perform });
    queue.start();
    for (const name of ['1', '2', '3', '4', '5']) queue.enqueue(d(name));
    await flush();
    expect(calls).toHaveLength(2);
    expect(queue.stats()).toMatchObject({ pending: 5, running: 2 });
    calls[0]!.resolve();
    await flush();
    expect(calls).toHaveLength(3);
    expect(queue.stats().running).toBe(2);
    for (let i = 1; i < 5; i++) {
      calls[i]!.resolve();
      await flush();
    }
    expect(calls.map((c) => c.job.digest.value)).toEqual(['1', '2', '3', '4', '5'].map((n) => d(n).value));
    expect(settled).toHaveLength(5);
    expect(queue.stats()).toMatchObject({ pending: 0, running: 0 });
  });

  it('keeps a job whose local copy vanished as failed, loudly, and retries it only when told', async () => {
    const errors: string[] = [];
    let missing = true;
    const { queue, settled } = open({
      logger: { info() {}, warn() {}, error: (_fields, message) => errors.push(message) },
      perform: async (job) => {
        if (missing) throw new WriteBackSourceMissingError(job.digest.value);
      },
    });
    queue.start();
    queue.enqueue(d('gone'), 'team/app');
    await flush();
    expect(settled).toEqual([{ digest: d('gone').value, result: 'failed' }]);
    expect(errors).toHaveLength(1);
    expect(queue.jobs()).toEqual([
      expect.objectContaining({ state: 'failed', attempts: 1, lastError: expect.stringMatching(/vanished/) }),
    ]);
    expect(queue.holds(d('gone'))).toBe(true);
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(settled).toHaveLength(1);
    expect(queue.stats()).toMatchObject({ pending: 0, failed: 1, oldestPendingAt: undefined });

    missing = false;
    // Pushed again: the job is back in line with fresh attempts.
    expect(queue.enqueue(d('gone'), 'team/app')).toBe(true);
    await flush();
    expect(settled.at(-1)?.result).toBe('success');
    expect(queue.jobs()).toEqual([]);

    missing = true;
    queue.enqueue(d('gone'), 'team/app');
    await flush();
    expect(queue.jobs()[0]?.state).toBe('failed');
    missing = false;
    expect(queue.retryFailed()).toBe(1);
    await flush();
    expect(settled.at(-1)?.result).toBe('success');
    expect(queue.jobs()).toEqual([]);
  });

  it('marks a job failed once it runs out of attempts', async () => {
    const { queue, settled } = open({
      maxAttempts: 2,
      backoff: { initialMs: 10 },
      perform: () => Promise.reject(new Error('still down')),
    });
    queue.start();
    queue.enqueue(d('m'));
    await flush();
    await vi.advanceTimersByTimeAsync(10);
    await flush();
    expect(settled.map((s) => s.result)).toEqual(['retry', 'failed']);
    expect(queue.jobs()[0]).toMatchObject({ state: 'failed', attempts: 2, lastError: 'still down' });
  });

  it('aborts running write-backs on close without counting them, and removes jobs of deleted blobs', async () => {
    const { perform, calls } = controlledPerform();
    const first = open({ perform });
    first.queue.start();
    first.queue.enqueue(d('r'));
    first.queue.enqueue(d('s'));
    await flush();
    expect(first.queue.remove(d('s'))).toBe(1);
    await first.queue.close();
    await first.queue.close();
    expect(calls[0]?.signal.aborted).toBe(true);

    const second = open({ perform: async () => {} });
    expect(second.queue.open()).toEqual([expect.objectContaining({ digest: d('r'), attempts: 0 })]);
  });
});
