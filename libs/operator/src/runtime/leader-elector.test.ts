import { describe, expect, it } from 'vitest';
import { createManualClock, settle, type ManualClock } from '@kraken/foundation/testing';
import { createMetrics } from '@kraken/service-kit';
import { KubeApiError, KubeApiUnreachableError, LeadershipLostError } from '../errors.js';
import { createLeaderElector, type LeaderElectorOptions } from './leader-elector.js';
import type { LeaseApi, LeaseRecord } from './lease-api.js';
import { createRuntimeMetrics } from './runtime-metrics.js';

/**
 * One Lease in memory with the API server's optimistic concurrency (a stale
 * resourceVersion answers 409), and per-client faults a real API server cannot be
 * made to produce on cue: a client whose requests fail, or never answer.
 */
function leaseStore() {
  let record: LeaseRecord | undefined;
  let version = 0;
  const conflict = () =>
    new KubeApiError({ method: 'PUT', path: 'lease', status: 409, reason: 'Conflict', message: 'stale' });
  const client = () => {
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    const guard = <T>(signal: AbortSignal | undefined, op: () => T): Promise<T> => {
      if (mode === 'fail') return Promise.reject(new KubeApiUnreachableError('GET', 'lease', 'refused'));
      if (mode === 'hang') {
        return new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        );
      }
      try {
        return Promise.resolve(op());
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const api: LeaseApi = {
      get: (_ref, signal) => guard(signal, () => record),
      create: (_ref, spec, signal) =>
        guard(signal, () => {
          if (record !== undefined) throw conflict();
          record = { ...spec, resourceVersion: String(++version) };
          return record;
        }),
      update: (_ref, spec, rv, signal) =>
        guard(signal, () => {
          if (record === undefined || record.resourceVersion !== rv) throw conflict();
          record = { ...spec, resourceVersion: String(++version) };
          return record;
        }),
    };
    return { api, setMode: (m: typeof mode) => (mode = m) };
  };
  return {
    client,
    record: () => record,
    overwrite: (r: Omit<LeaseRecord, 'resourceVersion'>) => {
      record = { ...r, resourceVersion: String(++version) };
    },
  };
}

function candidate(
  clock: ManualClock,
  store: ReturnType<typeof leaseStore>,
  identity: string,
  extra: Partial<LeaderElectorOptions> = {},
) {
  const { api, setMode } = store.client();
  const events: string[] = [];
  let signal: AbortSignal | undefined;
  let lostWith: unknown;
  const elector = createLeaderElector({
    leases: api,
    lease: { namespace: 'kraken-system', name: 'kraken-operator' },
    identity,
    clock,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: (s) => {
      signal = s;
      events.push(`started@${clock.now()}`);
    },
    onStoppedLeading: (reason, err) => {
      lostWith = err;
      events.push(`${reason}@${clock.now()}`);
    },
    ...extra,
  });
  return { elector, events, setMode, signal: () => signal, lostWith: () => lostWith };
}

describe('leader election', () => {
  it('creates an absent lease and leads at once, then renews every retry period', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const metrics = createMetrics('le_test', { defaultMetrics: false });
    const a = candidate(clock, store, 'a', { metrics: createRuntimeMetrics(metrics) });
    a.elector.start();
    await settle();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['started@0']);
    expect(store.record()).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    const leader = await metrics.registry.getSingleMetric('kraken_le_test_leader')?.get();
    expect(leader?.values[0]?.value).toBe(1);
    const rv = store.record()?.resourceVersion;
    await clock.advance(2_000);
    expect(store.record()?.resourceVersion).not.toBe(rv);
    expect(store.record()?.holderIdentity).toBe('a');
    await a.elector.close();
  });

  it('lets only one of two candidates lead', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const a = candidate(clock, store, 'a');
    const b = candidate(clock, store, 'b');
    a.elector.start();
    b.elector.start();
    for (let i = 0; i < 30; i++) {
      await clock.advance(1_000);
      expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    }
    expect(a.events).toEqual(['started@0']);
    expect(b.events).toEqual([]);
    await b.elector.close();
    await a.elector.close();
  });

  it('hands over within one retry period when the leader closes (releases)', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const a = candidate(clock, store, 'a');
    a.elector.start();
    await settle();
    const b = candidate(clock, store, 'b');
    b.elector.start();
    await clock.advance(5_000);
    expect(b.elector.isLeader()).toBe(false);
    const closedAt = clock.now();
    await a.elector.close();
    expect(a.signal()?.aborted).toBe(true);
    expect(a.events).toEqual(['started@0', `released@${closedAt}`]);
    expect(store.record()?.holderIdentity).toBe('');
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.record()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.close();
  });

  it('takes over a lease whose holder died only after the lease duration, measured on its own clock', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const a = candidate(clock, store, 'a');
    a.elector.start();
    await settle();
    const b = candidate(clock, store, 'b');
    b.elector.start();
    await clock.advance(4_000);
    // a dies: its requests go nowhere, and it never releases.
    a.setMode('hang');
    const lastRenewal = 4_000;
    await clock.advance(lastRenewal + 15_000 - clock.now() - 1);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(2_000 + 1);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.events).toHaveLength(1);
    expect(b.events[0]).toMatch(/^started@(20000|22000)$/);
    await b.elector.close();
    a.setMode('ok');
    await a.elector.close();
  });

  it('stops leading at once when no renewal succeeds within the renew deadline', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const a = candidate(clock, store, 'a');
    a.elector.start();
    await clock.advance(6_000);
    // Last successful renewal started at 6 s; from now on the API server refuses a.
    a.setMode('fail');
    await clock.advance(6_000 + 10_000 - clock.now() - 1);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.signal()?.aborted).toBe(false);
    await clock.advance(1);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.signal()?.aborted).toBe(true);
    expect(a.signal()?.reason).toBeInstanceOf(LeadershipLostError);
    expect(a.lostWith()).toBeInstanceOf(LeadershipLostError);
    expect(a.events).toEqual(['started@0', 'lost@16000']);
    // A lost elector does not compete again.
    a.setMode('ok');
    await clock.advance(60_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toHaveLength(2);
    await a.elector.close();
    expect(a.events).toHaveLength(2);
  });

  it('stops leading at the deadline even while a renewal hangs', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const a = candidate(clock, store, 'a');
    a.elector.start();
    await clock.advance(2_000);
    a.setMode('hang');
    await clock.advance(10_000);
    expect(a.events).toEqual(['started@0', 'lost@12000']);
    // The release it still tries on close is bounded by the renew deadline too.
    const closed = a.elector.close();
    await clock.advance(10_000);
    await closed;
  });

  it('stops leading when it finds another holder in the lease', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const a = candidate(clock, store, 'a');
    a.elector.start();
    await settle();
    store.overwrite({ holderIdentity: 'intruder', leaseDurationSeconds: 15, leaseTransitions: 1 });
    await clock.advance(2_000);
    expect(a.events).toEqual(['started@0', 'lost@2000']);
    expect(String(a.lostWith())).toContain('held by intruder');
    await a.elector.close();
  });

  it('closing a follower releases nothing; closing twice is one close', async () => {
    const clock = createManualClock();
    const store = leaseStore();
    const a = candidate(clock, store, 'a');
    const b = candidate(clock, store, 'b');
    a.elector.start();
    await settle();
    b.elector.start();
    await clock.advance(2_000);
    const closing = b.elector.close();
    expect(b.elector.close()).toBe(closing);
    await closing;
    expect(store.record()?.holderIdentity).toBe('a');
    expect(b.events).toEqual([]);
    await a.elector.close();
    expect(clock.pending()).toBe(0);
  });

  it('rejects timings that cannot work', () => {
    const clock = createManualClock();
    const { api } = leaseStore().client();
    const lease = { namespace: 'n', name: 'l' };
    expect(() =>
      createLeaderElector({ leases: api, lease, clock, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
    ).toThrow(RangeError);
  });
});
