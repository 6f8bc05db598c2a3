import { describe, expect, it } from 'vitest';
import { FailoverExhaustedError, NoHealthyNodeError } from './errors.js';
import { failoverOrder, runWithFailover, type FailoverRing } from './failover.js';
import { createRing } from './rendezvous.js';
import { createRingNode, type RingNode } from './ring-node.js';

const KEY = 'sha256:0f8e6f3c5b7e4a1d2c9b8a7f6e5d4c3b2a1908f7e6d5c4b3a29180706f5e4d3c';
const nodes = Array.from({ length: 5 }, (_, i) => createRingNode({ host: `10.0.0.${i + 1}`, port: 15002 }));

interface FakeRing extends FailoverRing {
  readonly reports: string[];
  readonly unhealthy: Set<string>;
}

function fakeRing(members: readonly RingNode[] = nodes, replicas = 3): FakeRing {
  const ring = createRing({ nodes: members, replicas });
  const reports: string[] = [];
  const unhealthy = new Set<string>();
  return {
    replicas,
    reports,
    unhealthy,
    ranked: (key) => ring.ranked(key),
    isHealthy: (id) => !unhealthy.has(id),
    reportSuccess: (id) => reports.push(`ok ${id}`),
    reportFailure: (id) => reports.push(`fail ${id}`),
  };
}

describe('runWithFailover', () => {
  it('answers from the first owner when it succeeds', async () => {
    const ring = fakeRing();
    const first = ring.ranked(KEY)[0] as RingNode;
    const result = await runWithFailover(ring, KEY, async (node, { attempt }) => `${node.id}#${attempt}`);
    expect(result).toEqual({ value: `${first.id}#1`, node: first, attempts: 1, failures: [] });
    expect(ring.reports).toEqual([`ok ${first.id}`]);
  });

  it('fails over down the rendezvous order, reporting each failure', async () => {
    const ring = fakeRing();
    const order = ring.ranked(KEY);
    const tried: string[] = [];
    const failed: number[] = [];
    const result = await runWithFailover(
      ring,
      KEY,
      async (node) => {
        tried.push(node.id);
        if (tried.length < 3) throw new Error(`boom ${node.id}`);
        return 'blob';
      },
      { onFailure: ({ attempt }) => failed.push(attempt) },
    );
    expect(tried).toEqual(order.slice(0, 3).map((n) => n.id));
    expect(result.node).toBe(order[2]);
    expect(result.attempts).toBe(3);
    expect(result.failures.map((f) => f.nodeId)).toEqual(tried.slice(0, 2));
    expect(failed).toEqual([1, 2]);
    expect(ring.reports).toEqual([`fail ${tried[0]}`, `fail ${tried[1]}`, `ok ${tried[2]}`]);
  });

  it('tries healthy nodes first, then unhealthy ones as a last resort', async () => {
    const ring = fakeRing(nodes.slice(0, 3));
    const order = ring.ranked(KEY);
    ring.unhealthy.add(order[0]?.id ?? '');
    expect(failoverOrder(ring, KEY)).toEqual([order[1], order[2], order[0]]);
    const tried: string[] = [];
    const result = await runWithFailover(ring, KEY, async (node) => {
      tried.push(node.id);
      if (node !== order[0]) throw new Error('down');
      return 1;
    });
    expect(tried).toEqual([order[1]?.id, order[2]?.id, order[0]?.id]);
    expect(result.node).toBe(order[0]);
  });

  it('bounds the attempts by retries and by the member count', async () => {
    const ring = fakeRing();
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls++;
      throw new Error('down');
    };
    const error = await runWithFailover(ring, KEY, failing, { retries: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverExhaustedError);
    expect(calls).toBe(2);
    const exhausted = error as FailoverExhaustedError;
    expect(exhausted.attempts.map((a) => a.nodeId)).toEqual(
      ring
        .ranked(KEY)
        .slice(0, 2)
        .map((n) => n.id),
    );
    expect(exhausted.cause).toBe(exhausted.attempts[1]?.error);
    expect(exhausted.code).toBe('KRAKEN_FAILOVER_EXHAUSTED');

    calls = 0;
    await expect(runWithFailover(ring, KEY, failing, { retries: 50 })).rejects.toThrow(
      FailoverExhaustedError,
    );
    expect(calls).toBe(nodes.length);

    calls = 0;
    await expect(runWithFailover(ring, KEY, failing)).rejects.toThrow(FailoverExhaustedError);
    expect(calls).toBe(3); // default: one attempt per replica
  });

  it('stops at a non-retryable error without blaming the node', async () => {
    const ring = fakeRing();
    const notFound = Object.assign(new Error('blob unknown'), { statusCode: 404 });
    let calls = 0;
    const run = runWithFailover(
      ring,
      KEY,
      async () => {
        calls++;
        throw notFound;
      },
      { isRetryable: (e) => (e as { statusCode?: number }).statusCode !== 404 },
    );
    await expect(run).rejects.toBe(notFound);
    expect(calls).toBe(1);
    expect(ring.reports).toEqual([]);
  });

  it('honours an abort signal between and during attempts', async () => {
    const ring = fakeRing();
    const controller = new AbortController();
    let calls = 0;
    const run = runWithFailover(
      ring,
      KEY,
      async (_node, { signal }) => {
        calls++;
        controller.abort(new Error('caller gave up'));
        throw signal?.reason;
      },
      { signal: controller.signal },
    );
    await expect(run).rejects.toThrow('caller gave up');
    expect(calls).toBe(1);
    expect(ring.reports).toEqual([]);
    await expect(runWithFailover(ring, KEY, async () => 1, { signal: controller.signal })).rejects.toThrow(
      'caller gave up',
    );
  });

  it('throws NoHealthyNodeError for an empty ring', async () => {
    await expect(runWithFailover(fakeRing([]), KEY, async () => 1)).rejects.toBeInstanceOf(
      NoHealthyNodeError,
    );
  });
});
