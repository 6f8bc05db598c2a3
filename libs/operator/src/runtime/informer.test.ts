import { describe, expect, it } from 'vitest';
import { createManualClock, settle } from '@kraken/foundation/testing';
import { KubeApiError, KubeApiUnreachableError } from '../errors.js';
import { createInformer } from './informer.js';
import type { ListWatchSource, ObjectEvent, ObjectList, WatchOptions } from './list-watch.js';
import { builtinKinds, type KubeObject } from './resource-kind.js';

const cm = (name: string, rv: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv, ...extra },
});

interface OpenWatch {
  readonly options: WatchOptions;
  send(type: ObjectEvent['type'], object: KubeObject): void;
  end(): void;
  fail(err: unknown): void;
}

/**
 * The informer's two reads, scripted by the test: each list answers with the next
 * queued result, each watch stays open until the test ends or fails it. The watch
 * paths a real API server takes are in e2e/src/operator-runtime.test.ts.
 */
function scripted() {
  const lists: (ObjectList | Error)[] = [];
  const watches: OpenWatch[] = [];
  let listCalls = 0;
  const source: ListWatchSource = {
    async list<T extends KubeObject>() {
      listCalls++;
      const next = lists.shift();
      if (next === undefined) throw new KubeApiUnreachableError('GET', 'list', 'no list scripted');
      if (next instanceof Error) throw next;
      return structuredClone(next) as ObjectList<T>;
    },
    watch<T extends KubeObject>(_kind: unknown, options: WatchOptions, onEvent: (e: ObjectEvent<T>) => void) {
      return new Promise<void>((resolve, reject) => {
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
        watches.push({
          options,
          send: (type, object) => onEvent({ type, object: object as T }),
          end: resolve,
          fail: reject,
        });
      });
    },
  };
  return { source, lists, watches, listCalls: () => listCalls, current: () => watches.at(-1) };
}

function recorder() {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      onAdd: (o: KubeObject) => seen.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
      onUpdate: (old: KubeObject, o: KubeObject) =>
        seen.push(
          `update ${o.metadata?.name}@${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`,
        ),
      onDelete: (o: KubeObject) => seen.push(`delete ${o.metadata?.name}`),
    },
  };
}

const gone = () =>
  new KubeApiError({ method: 'WATCH', path: '/x', status: 410, reason: 'Expired', message: 'too old' });

describe('informer', () => {
  it('syncs from its first list, then follows the watch from the list resourceVersion', async () => {
    const clock = createManualClock();
    const s = scripted();
    s.lists.push({ items: [cm('a', '1'), cm('b', '2')], resourceVersion: '10' });
    const informer = createInformer({
      kind: builtinKinds.ConfigMap,
      namespace: 'ns',
      source: s.source,
      clock,
    });
    const r = recorder();
    informer.addHandler(r.handler);
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    await informer.waitForSync();
    await settle();
    expect(informer.hasSynced()).toBe(true);
    expect(r.seen).toEqual(['add a@1', 'add b@2']);
    expect(s.current()?.options).toMatchObject({
      namespace: 'ns',
      resourceVersion: '10',
      timeoutSeconds: 300,
    });

    s.current()?.send('MODIFIED', cm('a', '11'));
    s.current()?.send('ADDED', cm('c', '12'));
    s.current()?.send('DELETED', cm('b', '13'));
    s.current()?.send('BOOKMARK', { metadata: { resourceVersion: '14' } });
    expect(r.seen.slice(2)).toEqual(['update a@1->11', 'add c@12', 'delete b']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['a', 'c']);
    expect(informer.get('ns', 'a')?.metadata?.resourceVersion).toBe('11');

    // The server ends the watch (its timeout): resumed from the last version, no relist.
    await clock.advance(60_000);
    s.current()?.end();
    await settle();
    expect(s.watches).toHaveLength(2);
    expect(s.current()?.options.resourceVersion).toBe('14');
    expect(s.listCalls()).toBe(1);

    // A handler added later sees the cache replayed as adds.
    const late = recorder();
    informer.addHandler(late.handler);
    expect(late.seen).toEqual(['add a@11', 'add c@12']);
    await informer.close();
  });

  it('relists at once on 410 Gone and reports what changed while it was not watching', async () => {
    const clock = createManualClock();
    const s = scripted();
    s.lists.push({ items: [cm('a', '1'), cm('b', '2'), cm('c', '3')], resourceVersion: '10' });
    const informer = createInformer({ kind: builtinKinds.ConfigMap, source: s.source, clock });
    const r = recorder();
    informer.addHandler(r.handler);
    informer.start();
    await informer.waitForSync();
    await settle();
    s.lists.push({ items: [cm('a', '1'), cm('b', '20'), cm('d', '21')], resourceVersion: '30' });
    s.current()?.fail(gone());
    await settle();
    expect(s.listCalls()).toBe(2);
    expect(r.seen.slice(3)).toEqual(['delete c', 'update b@2->20', 'add d@21']);
    expect(s.current()?.options.resourceVersion).toBe('30');
    expect(informer.hasSynced()).toBe(true);
    await informer.close();
  });

  it('resumes a failed watch from its resourceVersion after a backoff, growing per failure', async () => {
    const clock = createManualClock();
    const s = scripted();
    s.lists.push({ items: [cm('a', '1')], resourceVersion: '10' });
    const informer = createInformer({
      kind: builtinKinds.ConfigMap,
      source: s.source,
      clock,
      backoffBaseMs: 500,
      backoffMaxMs: 1_500,
    });
    informer.start();
    await informer.waitForSync();
    await settle();
    for (const delay of [500, 1000, 1500, 1500]) {
      const before = s.watches.length;
      s.current()?.fail(new KubeApiUnreachableError('WATCH', '/x', 'reset'));
      await clock.advance(delay - 1);
      expect(s.watches).toHaveLength(before);
      await clock.advance(1);
      expect(s.watches).toHaveLength(before + 1);
      expect(s.current()?.options.resourceVersion).toBe('10');
    }
    expect(s.listCalls()).toBe(1);
    // An event shows the watch healthy again: the next failure starts from the base delay.
    s.current()?.send('MODIFIED', cm('a', '11'));
    s.current()?.end();
    await settle();
    s.current()?.fail(new KubeApiUnreachableError('WATCH', '/x', 'reset'));
    await clock.advance(500);
    expect(s.current()?.options.resourceVersion).toBe('11');
    await informer.close();
  });

  it('retries a failed first list with backoff and syncs when one succeeds', async () => {
    const clock = createManualClock();
    const s = scripted();
    s.lists.push(new KubeApiUnreachableError('GET', '/x', 'refused'));
    const informer = createInformer({ kind: builtinKinds.ConfigMap, source: s.source, clock });
    informer.start();
    await settle();
    expect(informer.hasSynced()).toBe(false);
    s.lists.push({ items: [], resourceVersion: '5' });
    await clock.advance(500);
    await informer.waitForSync();
    await settle();
    expect(s.listCalls()).toBe(2);
    await informer.close();
  });

  it('aborts a watch that outlives its server-side timeout, and resumes it', async () => {
    const clock = createManualClock();
    const s = scripted();
    s.lists.push({ items: [], resourceVersion: '5' });
    const informer = createInformer({
      kind: builtinKinds.ConfigMap,
      source: s.source,
      clock,
      watchTimeoutSeconds: 60,
    });
    informer.start();
    await informer.waitForSync();
    await settle();
    const first = s.current();
    await clock.advance(60_000 + 30_000);
    expect(first?.options.signal?.aborted).toBe(true);
    expect(s.watches).toHaveLength(2);
    await informer.close();
  });

  it('answers cache queries by namespace, labels and owner', async () => {
    const clock = createManualClock();
    const s = scripted();
    const owner = { apiVersion: 'kraken.dev/v1alpha1', kind: 'KrakenCluster', name: 'k', uid: 'u-1' };
    s.lists.push({
      items: [
        cm('a', '1', { labels: { app: 'origin', tier: 'x' }, ownerReferences: [owner] }),
        cm('b', '2', { labels: { app: 'tracker' } }),
        {
          ...cm('c', '3', { labels: { app: 'origin' } }),
          metadata: { name: 'c', namespace: 'other', labels: { app: 'origin' } },
        },
      ],
      resourceVersion: '5',
    });
    const informer = createInformer({ kind: builtinKinds.ConfigMap, source: s.source, clock });
    informer.start();
    await informer.waitForSync();
    await settle();
    const names = (f: Parameters<typeof informer.list>[0]) => informer.list(f).map((o) => o.metadata?.name);
    expect(names({ namespace: 'ns' })).toEqual(['a', 'b']);
    expect(names({ labels: { app: 'origin' } })).toEqual(['a', 'c']);
    expect(names({ namespace: 'ns', labels: { app: 'origin' } })).toEqual(['a']);
    expect(names({ ownerUid: 'u-1' })).toEqual(['a']);
    expect(informer.get('other', 'c')).toBeDefined();
    expect(informer.get('ns', 'c')).toBeUndefined();
    await informer.close();
  });

  it('keeps going when a handler throws, and rejects waitForSync when closed first', async () => {
    const clock = createManualClock();
    const s = scripted();
    const informer = createInformer({ kind: builtinKinds.ConfigMap, source: s.source, clock });
    const waiting = informer.waitForSync();
    informer.start();
    await informer.close();
    await expect(waiting).rejects.toThrow(/closed before sync/);

    const s2 = scripted();
    s2.lists.push({ items: [cm('a', '1')], resourceVersion: '5' });
    const other = createInformer({ kind: builtinKinds.ConfigMap, source: s2.source, clock });
    const r = recorder();
    other.addHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    other.addHandler(r.handler);
    other.start();
    await other.waitForSync();
    await settle();
    expect(r.seen).toEqual(['add a@1']);
    await other.close();
    expect(clock.pending()).toBe(0);
  });
});
