import { describe, expect, it } from 'vitest';
import { createRingNode, type RingNode } from '@kraken/hashring';
import { digestOf, type Digest } from '@kraken/oci-content';
import { createMetrics, silentLogger } from '@kraken/service-kit';
import { createReplicationSweep, type ReplicationSweepOptions } from './replication-sweep.js';

/** Timers run by hand, on a clock the test moves. */
function manualTimers() {
  const pending = new Map<number, { at: number; callback: () => void }>();
  let now = 0;
  let next = 1;
  return {
    now: () => now,
    setTimeout(callback: () => void, ms: number) {
      const id = next++;
      pending.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle: unknown) {
      pending.delete(handle as number);
    },
    /** Delays of the timers pending now, from the current time. */
    delays: () => [...pending.values()].map((t) => t.at - now),
    /** Moves the clock and fires what came due. */
    advance(ms: number) {
      now += ms;
      for (const [id, timer] of [...pending]) {
        if (timer.at <= now) {
          pending.delete(id);
          timer.callback();
        }
      }
    },
  };
}

const self = createRingNode({ host: '10.0.0.1', port: 1 });
const peer = createRingNode({ host: '10.0.0.2', port: 1 });

function setup(overrides: Partial<ReplicationSweepOptions> = {}) {
  const timers = manualTimers();
  const blobs: Digest[] = ['a', 'b', 'c'].map((s) => digestOf(s));
  const copies: string[] = [];
  let healthy = true;
  let runs = 0;
  let release: (() => void) | undefined;
  let blocked = false;
  const sweep = createReplicationSweep({
    ring: { owners: () => [self, peer], isHealthy: () => healthy },
    self: self.id,
    store: {
      list: async () => {
        runs++;
        if (release === undefined && blocked) await new Promise<void>((resolve) => (release = resolve));
        return { digests: blobs, continuationToken: undefined };
      },
      stat: async () => ({ size: 1 }),
    },
    concurrency: 2,
    copy: async (node: RingNode, digest: Digest) => {
      copies.push(`${digest.value.slice(-4)}>${node.id}`);
      return 'copied';
    },
    logger: silentLogger(),
    metrics: createMetrics('test', { defaultMetrics: false }),
    timers,
    now: timers.now,
    intervalMs: 60_000,
    changeDelayMs: 100,
    retryDelayMs: 5_000,
    ...overrides,
  });
  return {
    sweep,
    timers,
    copies,
    runs: () => runs,
    setHealthy: (value: boolean) => (healthy = value),
    block: () => (blocked = true),
    unblock: () => {
      blocked = false;
      release?.();
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('replication sweep schedule', () => {
  it('runs after a change, copies to the other owners, then waits for the interval', async () => {
    const t = setup();
    t.sweep.schedule('change');
    expect(t.timers.delays()).toEqual([100]);
    t.timers.advance(100);
    await settle();
    await settle();
    expect(t.runs()).toBe(1);
    expect(t.copies).toHaveLength(3);
    expect(t.copies.every((c) => c.endsWith(`>${peer.id}`))).toBe(true);
    expect(t.timers.delays()).toEqual([60_000]);
    await t.sweep.close();
    expect(t.timers.delays()).toEqual([]);
  });

  it('coalesces requests on the earliest due time', async () => {
    const t = setup();
    t.sweep.schedule('retry');
    t.sweep.schedule('change');
    t.sweep.schedule('retry');
    expect(t.timers.delays()).toEqual([100]);
    await t.sweep.close();
  });

  it('retries soon when an owner was down, and reruns once after changes during a run', async () => {
    const t = setup();
    t.setHealthy(false);
    const report = await t.sweep.runNow();
    expect(report).toMatchObject({ checked: 3, missing: 0, failed: 3 });
    expect(t.timers.delays()).toEqual([5_000]);

    t.setHealthy(true);
    t.block();
    const running = t.sweep.runNow();
    await settle();
    t.sweep.schedule('change');
    t.sweep.schedule('change');
    t.unblock();
    expect(await running).toMatchObject({ checked: 3, missing: 3, replicated: 3, failed: 0 });
    // One more run follows the changes made during the first.
    expect(t.timers.delays()).toEqual([100]);
    t.timers.advance(100);
    await settle();
    await settle();
    expect(t.runs()).toBe(3);
    await t.sweep.close();
  });
});
