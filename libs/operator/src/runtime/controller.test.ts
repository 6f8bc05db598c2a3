import { describe, expect, it } from 'vitest';
import { createManualClock, settle } from '@kraken/foundation/testing';
import { createMetrics } from '@kraken/service-kit';
import { createController, ownerKeys } from './controller.js';
import { createInformer, type Informer } from './informer.js';
import type { ListWatchSource, ObjectEvent, ObjectList, WatchOptions } from './list-watch.js';
import { builtinKinds, type KubeObject, type ResourceKind } from './resource-kind.js';
import { createRuntimeMetrics } from './runtime-metrics.js';

const clusterKind: ResourceKind = {
  apiVersion: 'kraken.dev/v1alpha1',
  kind: 'KrakenCluster',
  plural: 'krakenclusters',
  namespaced: true,
};

const cluster = (name: string, rv: string): KubeObject => ({
  apiVersion: 'kraken.dev/v1alpha1',
  kind: 'KrakenCluster',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv },
});
const ownedBy = (name: string, owner: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name,
    namespace: 'ns',
    resourceVersion: rv,
    ownerReferences: [
      { apiVersion: 'kraken.dev/v1beta9', kind: 'KrakenCluster', name: owner, uid: `uid-${owner}` },
    ],
  },
});

/** A client whose informers list what the test queued per kind and whose watches the test drives. */
function fakeClient(clock: ReturnType<typeof createManualClock>) {
  const lists = new Map<string, ObjectList>();
  const watches = new Map<string, (e: ObjectEvent) => void>();
  const source: ListWatchSource = {
    async list<T extends KubeObject>(kind: ResourceKind) {
      const list = lists.get(kind.kind);
      if (list === undefined) throw new Error(`no list for ${kind.kind} yet`);
      return list as ObjectList<T>;
    },
    watch<T extends KubeObject>(
      kind: ResourceKind,
      options: WatchOptions,
      onEvent: (e: ObjectEvent<T>) => void,
    ) {
      watches.set(kind.kind, onEvent as (e: ObjectEvent) => void);
      return new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve()));
    },
  };
  const informers: Informer[] = [];
  return {
    lists,
    send: (kind: string, e: ObjectEvent) => watches.get(kind)?.(e),
    client: {
      informer: <T extends KubeObject>(kind: ResourceKind) => {
        const inf = createInformer<T>({ kind, source, clock });
        informers.push(inf as unknown as Informer);
        return inf;
      },
    },
    close: () => Promise.all(informers.map((i) => i.close())),
  };
}

describe('controller', () => {
  it('maps owned objects to their owner key, and waits for every cache before reconciling', async () => {
    const clock = createManualClock();
    const fake = fakeClient(clock);
    const metrics = createMetrics('ctl_test', { defaultMetrics: false });
    const reconciled: string[] = [];
    const controller = createController({
      name: 'krakencluster',
      client: fake.client,
      watches: [{ kind: clusterKind }, { kind: builtinKinds.ConfigMap, keys: ownerKeys(clusterKind) }],
      reconcile: async (key) => {
        reconciled.push(key);
        if (key === 'ns/bad') throw new Error('boom');
        if (key === 'ns/later') return { requeueAfterMs: 5_000 };
      },
      queue: { concurrency: 2, backoffBaseMs: 100, backoffMaxMs: 1_000 },
      metrics: createRuntimeMetrics(metrics),
      clock,
    });
    fake.lists.set('KrakenCluster', {
      items: [cluster('a', '1'), cluster('bad', '2')],
      resourceVersion: '5',
    });
    const started = controller.start();
    await settle();
    // ConfigMaps not listed yet: nothing reconciles on a partial cache.
    expect(reconciled).toEqual([]);
    fake.lists.set('ConfigMap', { items: [ownedBy('a-config', 'a', '3')], resourceVersion: '6' });
    await clock.advance(500);
    await started;
    await settle();
    expect(reconciled.sort()).toEqual(['ns/a', 'ns/bad']);

    reconciled.length = 0;
    fake.send('ConfigMap', { type: 'MODIFIED', object: ownedBy('a-config', 'a', '7') });
    fake.send('ConfigMap', { type: 'ADDED', object: ownedBy('later-config', 'later', '8') });
    fake.send('ConfigMap', {
      type: 'ADDED',
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'unowned', namespace: 'ns', resourceVersion: '9' },
      },
    });
    await settle();
    expect(reconciled).toEqual(['ns/a', 'ns/later']);
    await clock.advance(5_000);
    expect(reconciled.filter((k) => k === 'ns/later')).toHaveLength(2);

    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /kraken_ctl_test_reconciles_total\{controller="krakencluster",result="success"\} [1-9]/,
    );
    expect(text).toMatch(
      /kraken_ctl_test_reconciles_total\{controller="krakencluster",result="error"\} [1-9]/,
    );
    expect(text).toMatch(
      /kraken_ctl_test_reconciles_total\{controller="krakencluster",result="requeue"\} [1-9]/,
    );
    expect(text).toContain('kraken_ctl_test_reconcile_duration_seconds_count{controller="krakencluster"}');

    await controller.close();
    await controller.close();
    await fake.close();
  });

  it('stops reconciling at once when its signal aborts (leadership lost)', async () => {
    const clock = createManualClock();
    const fake = fakeClient(clock);
    fake.lists.set('KrakenCluster', { items: [cluster('a', '1')], resourceVersion: '5' });
    const leadership = new AbortController();
    let seen: AbortSignal | undefined;
    const controller = createController({
      name: 'krakencluster',
      client: fake.client,
      watches: [{ kind: clusterKind }],
      reconcile: (_key, signal) => {
        seen = signal;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      queue: { concurrency: 1, backoffBaseMs: 100, backoffMaxMs: 1_000 },
      metrics: createRuntimeMetrics(createMetrics('ctl_test2', { defaultMetrics: false })),
      clock,
      signal: leadership.signal,
    });
    await controller.start();
    await settle();
    expect(seen?.aborted).toBe(false);
    leadership.abort(new Error('lost'));
    expect(seen?.aborted).toBe(true);
    await controller.close();
    fake.send('KrakenCluster', { type: 'MODIFIED', object: cluster('a', '2') });
    await clock.advance(10_000);
    await fake.close();
  });

  it('keys cluster-scoped owners by name', () => {
    const nsKind: ResourceKind = {
      apiVersion: 'example.dev/v1',
      kind: 'Tenant',
      plural: 'tenants',
      namespaced: false,
    };
    const keys = ownerKeys(nsKind)({
      metadata: {
        namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'example.dev/v2', kind: 'Tenant', name: 't', uid: '1' },
          { apiVersion: 'other.dev/v1', kind: 'Tenant', name: 'x', uid: '2' },
        ],
      },
    });
    expect(keys).toEqual(['t']);
  });
});
