import { describe, expect, it } from 'vitest';
import { NoHealthyNodeError } from './errors.js';
import { runWithFailover } from './failover.js';
import type { HealthProbe } from './health-probe.js';
import { createLiveRing } from './live-ring.js';
import type { MembershipChange } from './membership.js';
import { ringConfigSchema } from './ring-config.js';
import { createFakeResolver } from './testing/fake-resolver.js';
import { createManualClock } from '@kraken/foundation/testing';

const KEY = 'sha256:5e1f9c3a8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f';

describe('live ring', () => {
  it('builds a static ring from config and walks past unhealthy owners', async () => {
    const config = ringConfigSchema.parse({
      nodes: [
        '10.0.0.1:15002',
        '10.0.0.2:15002',
        { address: '[fd00::3]:15002', weight: 2 },
        '10.0.0.4:15002',
      ],
      replicas: 2,
      health: { unhealthyThreshold: 1, active: { enabled: false } },
    });
    const ring = createLiveRing(config);
    await ring.start();
    expect(ring.members().map((n) => n.url)).toContain('http://[fd00::3]:15002');
    const order = ring.ranked(KEY);
    expect(ring.owners(KEY)).toEqual(order.slice(0, 2));
    expect(ring.healthyOwners(KEY)).toEqual(order.slice(0, 2));

    ring.reportFailure(order[0]?.id ?? '', new Error('connection reset'));
    expect(ring.isHealthy(order[0]?.id ?? '')).toBe(false);
    expect(ring.owners(KEY)).toEqual(order.slice(0, 2));
    expect(ring.healthyOwners(KEY)).toEqual([order[1], order[2]]);
    expect(ring.healthyOwners(KEY, 1)).toEqual([order[1]]);

    for (const node of order) ring.reportFailure(node.id);
    expect(() => ring.healthyOwners(KEY)).toThrow(NoHealthyNodeError);
    expect(ring.health().every((h) => !h.healthy)).toBe(true);
    ring.close();
  });

  it('follows DNS membership, rebuilding the ring and its health state', async () => {
    const timers = createManualClock();
    const resolver = createFakeResolver();
    resolver.a.set('origin', ['10.0.0.1', '10.0.0.2']);
    const probed: string[] = [];
    const probe: HealthProbe = async (node) => {
      probed.push(node.id);
    };
    const ring = createLiveRing(
      ringConfigSchema.parse({
        dns: 'origin:15002',
        refreshIntervalMs: 10_000,
        health: { active: { intervalMs: 3_000 } },
      }),
      { resolver, timers, probe },
    );
    expect(() => ring.healthyOwners(KEY)).toThrow(/no members/);
    const changes: MembershipChange[] = [];
    ring.watchMembers((change) => changes.push(change));
    await ring.start();
    expect(ring.members().map((n) => n.id)).toEqual(['10.0.0.1:15002', '10.0.0.2:15002']);
    expect(ring.owners(KEY)).toHaveLength(2);

    resolver.aaaa.set('origin', ['::1']);
    await timers.advance(10_000);
    expect(changes.map((c) => c.added.map((n) => n.id))).toEqual([
      ['10.0.0.1:15002', '10.0.0.2:15002'],
      ['[::1]:15002'],
    ]);
    expect(ring.owners(KEY)).toHaveLength(3);
    expect(ring.owners(KEY).some((n) => n.url === 'http://[::1]:15002')).toBe(true);
    expect(
      ring
        .health()
        .map((h) => h.nodeId)
        .sort(),
    ).toEqual(['10.0.0.1:15002', '10.0.0.2:15002', '[::1]:15002']);
    // A new member is probed from the next round on (rounds run every 3 s).
    expect(probed).not.toContain('[::1]:15002');
    await timers.advance(2_000);
    expect(probed).toContain('[::1]:15002');

    resolver.a.set('origin', ['10.0.0.2']);
    await ring.refresh();
    expect(ring.members().map((n) => n.id)).toEqual(['10.0.0.2:15002', '[::1]:15002']);
    expect(ring.health()).toHaveLength(2);
    ring.close();
    expect(timers.pending()).toBe(0);
  });

  it('feeds passive health from failover runs', async () => {
    const ring = createLiveRing(
      ringConfigSchema.parse({
        nodes: ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'],
        health: { unhealthyThreshold: 2, active: { enabled: false } },
      }),
    );
    const first = ring.ranked(KEY)[0]?.id ?? '';
    const down = async (node: { id: string }): Promise<string> => {
      if (node.id === first) throw new Error('down');
      return node.id;
    };
    expect((await runWithFailover(ring, KEY, down)).attempts).toBe(2);
    expect(ring.isHealthy(first)).toBe(true);
    await runWithFailover(ring, KEY, down);
    expect(ring.isHealthy(first)).toBe(false);
    // Now unhealthy, the first owner is skipped up front.
    expect((await runWithFailover(ring, KEY, down)).attempts).toBe(1);
  });
});
