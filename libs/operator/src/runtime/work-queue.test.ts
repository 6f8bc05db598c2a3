import { describe, expect, it } from 'vitest';
import { createManualClock, settle } from '@kraken/foundation/testing';
import { createMetrics } from '@kraken/service-kit';
import { createRuntimeMetrics } from './runtime-metrics.js';
import { createWorkQueue, type ProcessOutcome, type WorkQueueOptions } from './work-queue.js';

interface Call {
  readonly key: string;
  readonly at: number;
  readonly signal: AbortSignal;
  finish(outcome?: ProcessOutcome): void;
  fail(err?: Error): void;
}

/** A queue whose every `process` call waits until the test finishes or fails it. */
function harness(options: Partial<WorkQueueOptions> = {}) {
  const clock = createManualClock(1000);
  const calls: Call[] = [];
  const queue = createWorkQueue({
    name: 'test',
    clock,
    concurrency: 2,
    backoffBaseMs: 100,
    backoffMaxMs: 60_000,
    process: (key, signal) =>
      new Promise<ProcessOutcome | void>((resolve, reject) => {
        calls.push({
          key,
          at: clock.now(),
          signal,
          finish: (outcome) => resolve(outcome),
          fail: (err) => reject(err ?? new Error(`${key} failed`)),
        });
      }),
    ...options,
  });
  const open = () => calls.filter((c) => !settledCalls.has(c));
  const settledCalls = new Set<Call>();
  const finish = async (key: string, outcome?: ProcessOutcome) => {
    const call = open().find((c) => c.key === key);
    if (call === undefined) throw new Error(`${key} is not running`);
    settledCalls.add(call);
    call.finish(outcome);
    await settle();
  };
  const fail = async (key: string) => {
    const call = open().find((c) => c.key === key);
    if (call === undefined) throw new Error(`${key} is not running`);
    settledCalls.add(call);
    call.fail();
    await settle();
  };
  return { clock, queue, calls, running: () => open().map((c) => c.key), finish, fail };
}

describe('work queue', () => {
  it('holds keys until started, deduplicates queued keys and keeps FIFO order', async () => {
    const h = harness({ concurrency: 1 });
    h.queue.add('ns/a');
    h.queue.add('ns/b');
    h.queue.add('ns/a');
    expect(h.queue.depth).toBe(2);
    expect(h.calls).toHaveLength(0);
    h.queue.start();
    h.queue.start();
    expect(h.running()).toEqual(['ns/a']);
    await h.finish('ns/a');
    expect(h.running()).toEqual(['ns/b']);
    await h.finish('ns/b');
    expect(h.calls.map((c) => c.key)).toEqual(['ns/a', 'ns/b']);
    expect(h.queue.depth).toBe(0);
  });

  it('never runs one key twice at once; a key added while running runs once more after', async () => {
    const h = harness({ concurrency: 4 });
    h.queue.start();
    h.queue.add('ns/a');
    expect(h.running()).toEqual(['ns/a']);
    h.queue.add('ns/a');
    h.queue.add('ns/a');
    expect(h.running()).toEqual(['ns/a']);
    expect(h.queue.running).toBe(1);
    await h.finish('ns/a');
    expect(h.running()).toEqual(['ns/a']);
    await h.finish('ns/a');
    expect(h.calls).toHaveLength(2);
  });

  it('bounds concurrency', async () => {
    const h = harness({ concurrency: 2 });
    h.queue.start();
    for (const k of ['a', 'b', 'c', 'd', 'e']) h.queue.add(k);
    expect(h.running()).toEqual(['a', 'b']);
    expect(h.queue.depth).toBe(3);
    await h.finish('b');
    expect(h.running()).toEqual(['a', 'c']);
    await h.finish('a');
    await h.finish('c');
    expect(h.running()).toEqual(['d', 'e']);
  });

  it('retries a failed key with per-key exponential backoff, capped, and resets it on success', async () => {
    const h = harness({ backoffBaseMs: 100, backoffMaxMs: 1000 });
    h.queue.start();
    h.queue.add('k');
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = h.clock.now();
      await h.fail('k');
      expect(h.queue.failures('k')).toBe(i + 1);
      expect(h.running()).toEqual([]);
      // Nothing runs one millisecond before the backoff is over.
      const expected = Math.min(1000, 100 * 2 ** i);
      await h.clock.advance(expected - 1);
      expect(h.running()).toEqual([]);
      await h.clock.advance(1);
      expect(h.running()).toEqual(['k']);
      delays.push(h.clock.now() - before);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    await h.finish('k');
    expect(h.queue.failures('k')).toBe(0);
    h.queue.add('k');
    await h.fail('k');
    await h.clock.advance(100);
    expect(h.running()).toEqual(['k']);
  });

  it('keeps backoff per key: one failing key does not slow another', async () => {
    const h = harness();
    h.queue.start();
    h.queue.add('bad');
    h.queue.add('good');
    await h.fail('bad');
    await h.finish('good');
    h.queue.add('good');
    expect(h.running()).toEqual(['good']);
    expect(h.queue.failures('good')).toBe(0);
    expect(h.queue.failures('bad')).toBe(1);
  });

  it('runs a key again after requeueAfterMs; an earlier event supersedes the pending time', async () => {
    const h = harness();
    h.queue.start();
    h.queue.add('k');
    await h.finish('k', { requeueAfterMs: 30_000 });
    await h.clock.advance(29_999);
    expect(h.running()).toEqual([]);
    await h.clock.advance(1);
    expect(h.running()).toEqual(['k']);
    await h.finish('k', { requeueAfterMs: 30_000 });
    // An event at +10 s runs the key at once; its outcome (no requeue) drops the +30 s run.
    await h.clock.advance(10_000);
    h.queue.add('k');
    await h.finish('k');
    await h.clock.advance(60_000);
    expect(h.calls).toHaveLength(3);
    expect(h.clock.pending()).toBe(0);
  });

  it('addAfter keeps the earlier of two pending times', async () => {
    const h = harness();
    h.queue.start();
    h.queue.addAfter('k', 500);
    h.queue.addAfter('k', 2000);
    h.queue.addAfter('j', 100);
    await h.clock.advance(100);
    expect(h.running()).toEqual(['j']);
    await h.clock.advance(400);
    expect(h.running()).toEqual(['j', 'k']);
  });

  it('close aborts running keys, waits for them, and ignores later adds', async () => {
    const h = harness();
    h.queue.start();
    h.queue.add('a');
    h.queue.add('b');
    h.queue.addAfter('c', 100);
    const closed = h.queue.close();
    expect(h.calls.every((c) => c.signal.aborted)).toBe(true);
    let done = false;
    void closed.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    await h.finish('a');
    await h.fail('b');
    await closed;
    expect(done).toBe(true);
    expect(h.queue.close()).toBe(closed);
    h.queue.add('d');
    await h.clock.advance(1000);
    expect(h.calls.map((c) => c.key)).toEqual(['a', 'b']);
    expect(h.clock.pending()).toBe(0);
  });

  it('closes when its signal aborts', async () => {
    const ac = new AbortController();
    const h = harness({ signal: ac.signal });
    h.queue.start();
    h.queue.add('a');
    ac.abort();
    expect(h.calls[0]?.signal.aborted).toBe(true);
    await h.finish('a');
    h.queue.add('b');
    expect(h.calls).toHaveLength(1);
  });

  it('reports its depth as a gauge', async () => {
    const metrics = createMetrics('wq_test', { defaultMetrics: false });
    const h = harness({ concurrency: 1, metrics: createRuntimeMetrics(metrics) });
    h.queue.add('a');
    h.queue.add('b');
    h.queue.add('c');
    const depth = async () =>
      (await metrics.registry.getSingleMetric('kraken_wq_test_work_queue_depth')?.get())?.values[0]?.value;
    expect(await depth()).toBe(3);
    h.queue.start();
    expect(await depth()).toBe(2);
    await h.finish('a');
    await h.finish('b');
    await h.finish('c');
    expect(await depth()).toBe(0);
  });
});
