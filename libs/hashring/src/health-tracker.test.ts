import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthProbeError } from './errors.js';
import { createHttpHealthProbe, type HealthProbe } from './health-probe.js';
import { createHealthTracker, type HealthChange, type HealthOptions } from './health-tracker.js';
import { createRingNode, type RingNode } from './ring-node.js';
import { createManualClock } from '@kraken/foundation/testing';

const options: HealthOptions = {
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  active: { enabled: true, intervalMs: 5_000, timeoutMs: 2_000 },
};
const a = createRingNode({ host: '10.0.0.1', port: 15002 });
const b = createRingNode({ host: '10.0.0.2', port: 15002 });
const neverProbe: HealthProbe = () => Promise.reject(new Error('not expected'));

describe('passive health', () => {
  it('turns a node unhealthy after N consecutive failures and healthy after M successes', () => {
    const tracker = createHealthTracker(
      { ...options, active: { ...options.active, enabled: false } },
      { probe: neverProbe },
    );
    tracker.setMembers([a, b]);
    const changes: HealthChange[] = [];
    tracker.watch((change) => changes.push(change));

    tracker.reportFailure(a.id);
    tracker.reportFailure(a.id);
    tracker.reportSuccess(a.id); // breaks the streak
    tracker.reportFailure(a.id);
    tracker.reportFailure(a.id);
    expect(tracker.isHealthy(a.id)).toBe(true);
    tracker.reportFailure(a.id);
    expect(tracker.isHealthy(a.id)).toBe(false);
    expect(tracker.isHealthy(b.id)).toBe(true);

    tracker.reportSuccess(a.id);
    tracker.reportFailure(a.id);
    tracker.reportSuccess(a.id);
    expect(tracker.isHealthy(a.id)).toBe(false);
    tracker.reportSuccess(a.id);
    expect(tracker.isHealthy(a.id)).toBe(true);
    expect(changes).toEqual([
      { node: a, healthy: false },
      { node: a, healthy: true },
    ]);
    expect(tracker.status().find((s) => s.nodeId === a.id)).toEqual({
      nodeId: a.id,
      healthy: true,
      consecutiveFailures: 0,
      consecutiveSuccesses: 2,
    });
  });

  it('forgets removed nodes and treats unknown ones as healthy', () => {
    const tracker = createHealthTracker({ ...options, unhealthyThreshold: 1 }, { probe: neverProbe });
    tracker.setMembers([a, b]);
    tracker.reportFailure(a.id);
    tracker.reportFailure(b.id);
    tracker.setMembers([b]);
    expect(tracker.status().map((s) => s.nodeId)).toEqual([b.id]);
    expect(tracker.isHealthy(b.id)).toBe(false);
    tracker.reportFailure('10.9.9.9:1');
    expect(tracker.isHealthy('10.9.9.9:1')).toBe(true);
    tracker.setMembers([a, b]);
    expect(tracker.isHealthy(a.id)).toBe(true);
  });
});

describe('active health', () => {
  it('probes every member on the interval and applies the thresholds', async () => {
    const timers = createManualClock();
    const down = new Set<string>();
    const probed: string[] = [];
    const probe: HealthProbe = async (node) => {
      probed.push(node.id);
      if (down.has(node.id)) throw new Error('down');
    };
    const tracker = createHealthTracker(options, { probe, timers });
    tracker.setMembers([a, b]);
    tracker.start();
    tracker.start(); // idempotent
    await timers.advance(4_999);
    expect(probed).toEqual([]);
    await timers.advance(1);
    expect(probed.sort()).toEqual([a.id, b.id].sort());

    down.add(a.id);
    await timers.advance(10_000);
    expect(tracker.isHealthy(a.id)).toBe(true);
    await timers.advance(5_000);
    expect(tracker.isHealthy(a.id)).toBe(false);
    expect(tracker.isHealthy(b.id)).toBe(true);

    down.clear();
    await timers.advance(5_000);
    expect(tracker.isHealthy(a.id)).toBe(false);
    await timers.advance(5_000);
    expect(tracker.isHealthy(a.id)).toBe(true);

    tracker.close();
    tracker.close();
    const count = probed.length;
    await timers.advance(60_000);
    expect(probed).toHaveLength(count);
    expect(timers.pending()).toBe(0);
  });

  it('counts a probe that outlives its timeout as a failure and aborts it', async () => {
    const timers = createManualClock();
    const aborted: unknown[] = [];
    const probe: HealthProbe = (_node, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborted.push(signal.reason);
          reject(signal.reason);
        });
      });
    const tracker = createHealthTracker({ ...options, unhealthyThreshold: 1 }, { probe, timers });
    tracker.setMembers([a]);
    const round = tracker.checkNow();
    expect(tracker.checkNow()).toBe(round);
    await timers.advance(2_000);
    await round;
    expect(aborted).toHaveLength(1);
    expect(tracker.isHealthy(a.id)).toBe(false);
  });

  it('aborts in-flight probes on close without changing health', async () => {
    const timers = createManualClock();
    let signalSeen: AbortSignal | undefined;
    const probe: HealthProbe = (_node, signal) => {
      signalSeen = signal;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    };
    const tracker = createHealthTracker({ ...options, unhealthyThreshold: 1 }, { probe, timers });
    tracker.setMembers([a]);
    const round = tracker.checkNow();
    tracker.close();
    await round;
    expect(signalSeen?.aborted).toBe(true);
    expect(tracker.isHealthy(a.id)).toBe(true);
  });
});

describe('HTTP health probe', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<RingNode> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return createRingNode({ host: '127.0.0.1', port });
  }

  it('GETs /health on a live server and follows its answers through the thresholds', async () => {
    let status = 200;
    const paths: string[] = [];
    const node = await serve((req, res) => {
      paths.push(`${req.method} ${req.url}`);
      res.statusCode = status;
      res.end(status === 200 ? 'ok' : 'down');
    });
    const timers = createManualClock();
    const tracker = createHealthTracker(
      { ...options, unhealthyThreshold: 2, healthyThreshold: 1 },
      { probe: createHttpHealthProbe('/health'), timers },
    );
    tracker.setMembers([node]);
    await tracker.checkNow();
    expect(paths).toEqual(['GET /health']);
    expect(tracker.isHealthy(node.id)).toBe(true);

    status = 503;
    await tracker.checkNow();
    expect(tracker.isHealthy(node.id)).toBe(true);
    await tracker.checkNow();
    expect(tracker.isHealthy(node.id)).toBe(false);

    status = 200;
    await tracker.checkNow();
    expect(tracker.isHealthy(node.id)).toBe(true);
    tracker.close();
  });

  it('times out a hung server through the injected timers, and types every failure', async () => {
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const node = await serve((req, res) => {
      if (req.url === '/health') {
        arrived(); // and never answers
        return;
      }
      res.statusCode = 500;
      res.end();
    });
    const timers = createManualClock();
    const errors: unknown[] = [];
    const tracker = createHealthTracker(
      { ...options, unhealthyThreshold: 1 },
      {
        probe: createHttpHealthProbe('/health'),
        timers,
        logger: { info: () => {}, warn: (obj) => errors.push(obj) },
      },
    );
    tracker.setMembers([node]);
    const round = tracker.checkNow();
    await arrival;
    expect(tracker.isHealthy(node.id)).toBe(true);
    await timers.advance(2_000);
    await round;
    expect(tracker.isHealthy(node.id)).toBe(false);
    expect((errors[0] as { err: unknown }).err).toBeInstanceOf(HealthProbeError);
    expect(String((errors[0] as { err: unknown }).err)).toMatch(/timed out/);
    tracker.close();

    const signal = new AbortController().signal;
    await expect(createHttpHealthProbe('broken')(node, signal)).rejects.toThrow(/status 500/);
    const refused = createRingNode({ host: '127.0.0.1', port: 1 });
    await expect(createHttpHealthProbe()(refused, signal)).rejects.toBeInstanceOf(HealthProbeError);
  });
});
