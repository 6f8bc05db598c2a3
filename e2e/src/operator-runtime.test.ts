/**
 * The operator's controller runtime against a real control plane (support/kube):
 * server-side apply that writes only when the cluster differs from the desired objects,
 * status and finalizer patches, a controller that reconciles owned objects back,
 * informers that survive a broken connection and a 410 Gone, and leader election
 * between in-process candidates and a candidate process that is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@kraken/foundation';
import {
  builtinKinds,
  createController,
  createInformer,
  createKubeClient,
  createLeaderElector,
  createRuntimeMetrics,
  isGone,
  ownerKeys,
  setCondition,
  type ConditionLike,
  type KubeClient,
  type KubeObject,
  type LeaderElector,
  type ListOptions,
  type ListWatchSource,
  type ResourceKind,
  type RuntimeMetrics,
} from '@kraken/operator';
import { createMetrics, type Metrics } from '@kraken/service-kit';
import { startControlPlane, type ControlPlane } from './support/kube/index.js';

const NS = 'runtime-e2e';
const widgetKind: ResourceKind = {
  apiVersion: 'e2e.kraken.dev/v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
};
const WIDGET_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.e2e.kraken.dev }
spec:
  group: e2e.kraken.dev
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;

let cp: ControlPlane;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  cp = await startControlPlane({ nodes: 1 });
  await cp.apply(`{ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "${NS}" } }`);
  await cp.apply(WIDGET_CRD);
  const established = await cp.kubectl([
    'wait',
    '--for=condition=Established',
    'crd/widgets.e2e.kraken.dev',
    '--timeout=60s',
  ]);
  expect(established.code, established.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await cp?.close();
});

interface RuntimeClient {
  readonly client: KubeClient;
  readonly metrics: Metrics;
  /** The client's runtime metrics, for a controller or elector to share. */
  readonly runtime: RuntimeMetrics;
  /** API writes the client sent so far, of one verb and kind. */
  writes(verb: string, kind: string): Promise<number>;
  /** Reconciles counted so far, by controller and result. */
  reconciles(controller: string, result: string): Promise<number>;
}

let clients = 0;
function runtimeClient(kubeconfigPath = cp.kubeconfigPath): RuntimeClient {
  const metrics = createMetrics(`operator_e2e_${++clients}`, { defaultMetrics: false });
  const runtime = createRuntimeMetrics(metrics);
  const client = createKubeClient({
    kubeconfigPath,
    kinds: [widgetKind],
    metrics: runtime,
    informers: { backoffBaseMs: 100, backoffMaxMs: 1_000 },
  });
  closers.push(() => client.close());
  const sample = async (name: string, labels: Record<string, string>) => {
    const metric = await metrics.registry.getSingleMetric(`${metrics.prefix}${name}`)?.get();
    const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return match?.value ?? 0;
  };
  return {
    client,
    metrics,
    runtime,
    writes: (verb, kind) => sample('api_writes_total', { verb, kind }),
    reconciles: (controller, result) => sample('reconciles_total', { controller, result }),
  };
}

const wait = <T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000) =>
  cp.waitFor(probe, { what, timeoutMs, intervalMs: 50 });

const kubectlGet = <T>(...args: string[]) => cp.kubectlJson<T>(['get', '-n', NS, ...args]);

function deployment(name: string, replicas: number): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: NS,
      labels: { ...labels, 'app.kubernetes.io/managed-by': 'kraken-operator' },
    },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'registry.invalid/web:v1',
              args: ['serve', '--port', '8080'],
              ports: [{ name: 'http', containerPort: 8080 }],
              // Canonical quantities: the API server would rewrite "0.5" or "1000m".
              resources: { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
              env: [{ name: 'MODE', value: 'e2e' }],
            },
          ],
        },
      },
    },
  };
}

describe('server-side apply', () => {
  it('creates, then writes nothing while the cluster matches, restores a hand edit and re-creates a deleted object', async () => {
    const { client, writes } = runtimeClient();
    const informer = client.informer(builtinKinds.Deployment, { namespace: NS });
    informer.start();
    await informer.waitForSync();
    const desired = deployment('web', 2);

    const created = await client.apply(desired);
    expect(created.applied).toBe(true);
    expect(await writes('apply', 'Deployment')).toBe(1);
    const live = await cp.kubectlJson<
      KubeObject & { metadata: { managedFields: { manager: string; operation: string }[] } }
    >(['get', 'deployment', 'web', '-n', NS, '--show-managed-fields']);
    expect(live.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'kraken-operator', operation: 'Apply' }),
    );
    await wait('the informer to hold the Deployment', () => informer.get(NS, 'web'));

    // The live object has the server's defaults and status on top: still no write.
    const again = await client.apply(desired);
    expect(again.applied).toBe(false);
    expect(await writes('apply', 'Deployment')).toBe(1);

    // A hand edit of a field we own is drift: applied back.
    const scaled = await cp.kubectl(['scale', 'deployment', 'web', '-n', NS, '--replicas=5']);
    expect(scaled.code, scaled.stderr).toBe(0);
    await wait(
      'the informer to see 5 replicas',
      () => (informer.get(NS, 'web')?.spec as { replicas?: number })?.replicas === 5,
    );
    const restored = await client.apply(desired);
    expect(restored.applied).toBe(true);
    expect(await writes('apply', 'Deployment')).toBe(2);
    expect((await kubectlGet<{ spec: { replicas: number } }>('deployment', 'web')).spec.replicas).toBe(2);

    // A field we do not set, added by hand, is someone else's: no drift, no write.
    const annotated = await cp.kubectl([
      'annotate',
      'deployment',
      'web',
      '-n',
      NS,
      'example.com/note=by-hand',
    ]);
    expect(annotated.code, annotated.stderr).toBe(0);
    await wait(
      'the informer to see the annotation',
      () => informer.get(NS, 'web')?.metadata?.annotations?.['example.com/note'] === 'by-hand',
    );
    expect((await client.apply(desired)).applied).toBe(false);
    expect(await writes('apply', 'Deployment')).toBe(2);

    // Deleted: the cache shows it gone, and apply creates it again.
    const deleted = await cp.kubectl(['delete', 'deployment', 'web', '-n', NS, '--wait=true']);
    expect(deleted.code, deleted.stderr).toBe(0);
    await wait('the informer to drop the Deployment', () => informer.get(NS, 'web') === undefined);
    expect((await client.apply(desired)).applied).toBe(true);
    expect(await writes('apply', 'Deployment')).toBe(3);
    expect((await kubectlGet<KubeObject>('deployment', 'web')).metadata?.uid).not.toBe(live.metadata?.uid);
  });
});

describe('status and finalizers', () => {
  it('patches status only when it changed, and removes the fields it dropped', async () => {
    const { client, writes } = runtimeClient();
    const informer = client.informer(widgetKind, { namespace: NS });
    informer.start();
    await informer.waitForSync();
    await client.apply({
      apiVersion: 'e2e.kraken.dev/v1',
      kind: 'Widget',
      metadata: { name: 'w1', namespace: NS },
      spec: { size: 1 },
    });
    const cached = () => informer.get(NS, 'w1') as (KubeObject & { status?: WidgetStatus }) | undefined;
    await wait('the informer to hold w1', cached);

    const t0 = new Date('2030-01-01T00:00:00Z');
    const first: WidgetStatus = {
      observedGeneration: 1,
      conditions: setCondition<ConditionLike>(
        [],
        { type: 'Ready', status: 'False', reason: 'Starting', message: '' },
        t0,
      ),
      counts: { a: 1, b: 2 },
    };
    await client.patchStatus(cached()!, first);
    expect(await writes('patch_status', 'Widget')).toBe(1);
    await wait('the informer to see the status', () => cached()?.status?.counts?.b === 2);

    // Same status an hour later: setCondition keeps the transition time; nothing to write.
    const later = new Date('2030-01-01T01:00:00Z');
    const same: WidgetStatus = {
      ...first,
      conditions: setCondition(
        cached()?.status?.conditions,
        { type: 'Ready', status: 'False', reason: 'Starting', message: '' },
        later,
      ),
    };
    expect(same.conditions[0]?.lastTransitionTime).toBe('2030-01-01T00:00:00Z');
    await client.patchStatus(cached()!, same);
    // Even a condition whose only change is its transition time is no change.
    await client.patchStatus(cached()!, {
      ...first,
      conditions: [{ ...first.conditions[0]!, lastTransitionTime: '2031-01-01T00:00:00Z' }],
    });
    expect(await writes('patch_status', 'Widget')).toBe(1);

    const ready: WidgetStatus = {
      observedGeneration: 1,
      conditions: setCondition(
        cached()?.status?.conditions,
        { type: 'Ready', status: 'True', reason: 'Available', message: '' },
        later,
      ),
      counts: { a: 1 },
    };
    await client.patchStatus(cached()!, ready);
    expect(await writes('patch_status', 'Widget')).toBe(2);
    const stored = await kubectlGet<{ status: WidgetStatus }>('widget', 'w1');
    expect(stored.status.counts).toEqual({ a: 1 });
    expect(stored.status.conditions).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Available',
        message: '',
        lastTransitionTime: '2030-01-01T01:00:00Z',
      },
    ]);
  });

  it('adds finalizers from a stale copy without clobbering a concurrent one, and removes them', async () => {
    const { client, writes } = runtimeClient();
    const created = await client.apply<KubeObject>({
      apiVersion: 'e2e.kraken.dev/v1',
      kind: 'Widget',
      metadata: { name: 'w2', namespace: NS },
    });
    const stale = created.object;
    const withA = await client.addFinalizer(stale, 'e2e.kraken.dev/a');
    expect(withA?.metadata?.finalizers).toEqual(['e2e.kraken.dev/a']);
    // From the copy read before `a` was added: 409, re-read, and `a` is kept.
    const withB = await client.addFinalizer(stale, 'e2e.kraken.dev/b');
    expect(withB?.metadata?.finalizers).toEqual(['e2e.kraken.dev/a', 'e2e.kraken.dev/b']);
    expect(await writes('patch', 'Widget')).toBe(3);
    expect(await client.addFinalizer(withB!, 'e2e.kraken.dev/a')).toBe(withB);
    expect(await writes('patch', 'Widget')).toBe(3);

    const deleting = await cp.kubectl(['delete', 'widget', 'w2', '-n', NS, '--wait=false']);
    expect(deleting.code, deleting.stderr).toBe(0);
    const marked = await client.get(widgetKind, NS, 'w2');
    expect(marked?.metadata?.deletionTimestamp).toBeDefined();
    const withoutB = await client.removeFinalizer(marked!, 'e2e.kraken.dev/b');
    expect(withoutB?.metadata?.finalizers).toEqual(['e2e.kraken.dev/a']);
    await client.removeFinalizer(withoutB!, 'e2e.kraken.dev/a');
    await wait('w2 to be gone', async () => (await client.get(widgetKind, NS, 'w2')) === undefined);
    expect(await client.removeFinalizer(withoutB!, 'e2e.kraken.dev/a')).toBeUndefined();
  });
});

interface WidgetStatus {
  observedGeneration: number;
  conditions: ConditionLike[];
  counts?: Record<string, number>;
  configMap?: string;
}

describe('a controller', () => {
  it('converges, then reconciles without writing, and restores an owned object deleted by hand', async () => {
    const { client, runtime, writes, reconciles } = runtimeClient();
    const widgets = client.informer(widgetKind, { namespace: NS });
    const configMaps = client.informer(builtinKinds.ConfigMap, { namespace: NS });
    const controller = createController({
      name: 'widget',
      client,
      watches: [
        { kind: widgetKind, namespace: NS },
        { kind: builtinKinds.ConfigMap, namespace: NS, keys: ownerKeys(widgetKind) },
      ],
      queue: { concurrency: 2, backoffBaseMs: 100, backoffMaxMs: 2_000 },
      metrics: runtime,
      reconcile: async (key, signal) => {
        const [namespace, name] = key.split('/') as [string, string];
        const widget = widgets.get(namespace, name);
        if (widget === undefined || !name.startsWith('ctl-')) return;
        const cmName = `${name}-config`;
        await client.apply(
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: {
              name: cmName,
              namespace,
              ownerReferences: [
                {
                  apiVersion: widgetKind.apiVersion,
                  kind: 'Widget',
                  name,
                  uid: widget.metadata?.uid ?? '',
                  controller: true,
                },
              ],
            },
            data: { size: String((widget.spec as { size?: number } | undefined)?.size ?? 0) },
          },
          { signal },
        );
        await client.patchStatus(
          widget,
          { observedGeneration: widget.metadata?.generation ?? 0, configMap: cmName },
          { signal },
        );
      },
    });
    closers.push(() => controller.close());
    await controller.start();
    await client.apply({
      apiVersion: 'e2e.kraken.dev/v1',
      kind: 'Widget',
      metadata: { name: 'ctl-a', namespace: NS },
      spec: { size: 3 },
    });
    await wait('ctl-a-config and the status', () => {
      const status = widgets.get(NS, 'ctl-a')?.status as WidgetStatus | undefined;
      return configMaps.get(NS, 'ctl-a-config') !== undefined && status?.configMap === 'ctl-a-config';
    });
    // Let the events of the controller's own writes settle into reconciles.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const writesBefore = (await writes('apply', 'ConfigMap')) + (await writes('patch_status', 'Widget'));
    const before = await reconciles('widget', 'success');
    for (let i = 0; i < 3; i++) controller.enqueue(`${NS}/ctl-a`);
    await wait('another reconcile', async () => (await reconciles('widget', 'success')) > before);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await writes('apply', 'ConfigMap')) + (await writes('patch_status', 'Widget'))).toBe(
      writesBefore,
    );

    // The owned ConfigMap deleted by hand: its delete event enqueues the Widget.
    const uid = configMaps.get(NS, 'ctl-a-config')?.metadata?.uid;
    const deleted = await cp.kubectl(['delete', 'configmap', 'ctl-a-config', '-n', NS]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await wait('ctl-a-config to be re-created', async () => {
      const cm = await client.get(builtinKinds.ConfigMap, NS, 'ctl-a-config');
      return cm !== undefined && cm.metadata?.uid !== uid;
    });
    // And a spec change flows through.
    await client.apply({
      apiVersion: 'e2e.kraken.dev/v1',
      kind: 'Widget',
      metadata: { name: 'ctl-a', namespace: NS },
      spec: { size: 4 },
    });
    await wait('ctl-a-config to follow the spec', async () => {
      const cm = await client.get<KubeObject & { data?: Record<string, string> }>(
        builtinKinds.ConfigMap,
        NS,
        'ctl-a-config',
      );
      return cm?.data?.size === '4';
    });
    await controller.close();
  });
});

/** A TCP proxy in front of the API server that can cut every connection and refuse new ones. */
async function tcpProxy(
  target: URL,
): Promise<{ url: string; cut(): void; refuse(on: boolean): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((downstream) => {
    if (refusing) {
      downstream.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(downstream).add(upstream);
    const drop = () => {
      downstream.destroy();
      upstream.destroy();
      sockets.delete(downstream);
      sockets.delete(upstream);
    };
    downstream.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    downstream.pipe(upstream).pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    refuse: (on) => {
      refusing = on;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('informers', () => {
  it('resume a broken watch from where they were, without a relist', async () => {
    const proxy = await tcpProxy(new URL(cp.server));
    closers.push(() => proxy.close());
    const config = JSON.parse(await readFile(cp.kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
    };
    config.clusters[0]!.cluster.server = proxy.url;
    const proxied = join(cp.dir, 'kubeconfigs', 'through-proxy.json');
    await writeFile(proxied, JSON.stringify(config), { mode: 0o600 });

    const { client, metrics } = runtimeClient(proxied);
    const informer = client.informer(builtinKinds.ConfigMap, { namespace: NS, labelSelector: 'e2e=watch' });
    informer.start();
    await informer.waitForSync();
    await cp.kubectl(['create', 'configmap', 'before-cut', '-n', NS]);
    await cp.kubectl(['label', 'configmap', 'before-cut', '-n', NS, 'e2e=watch']);
    await wait('before-cut in the cache', () => informer.get(NS, 'before-cut'));

    proxy.refuse(true);
    proxy.cut();
    await cp.kubectl(['create', 'configmap', 'during-cut', '-n', NS]);
    await cp.kubectl(['label', 'configmap', 'during-cut', '-n', NS, 'e2e=watch']);
    await cp.kubectl(['delete', 'configmap', 'before-cut', '-n', NS]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(informer.get(NS, 'during-cut')).toBeUndefined();
    proxy.refuse(false);

    await wait(
      'the cache to catch up',
      () => informer.get(NS, 'during-cut') !== undefined && informer.get(NS, 'before-cut') === undefined,
    );
    const lists = await metrics.registry.getSingleMetric(`${metrics.prefix}informer_lists_total`)?.get();
    expect(lists?.values.find((v) => v.labels.kind === 'ConfigMap')?.value).toBe(1);
  });

  it('relist when the API server answers a watch with 410 Gone', async () => {
    const { client } = runtimeClient();
    const widget = (name: string) => ({
      apiVersion: widgetKind.apiVersion,
      kind: widgetKind.kind,
      metadata: { name, namespace: NS, labels: { e2e: 'relist' } },
    });
    await client.apply(widget('relist-a'));
    // The watch cache of a resource keeps history from when it started (the CRD's
    // establishment): resourceVersion 1 is older, and a watch from it answers 410.
    const direct = client.watch(widgetKind, { namespace: NS, resourceVersion: '1' }, () => {});
    await expect(direct).rejects.toSatisfy(isGone);

    let lists = 0;
    let watches = 0;
    // The first list claims that old resourceVersion; before the watch that follows (and
    // fails with 410) relist-a is deleted, which only the relist can tell.
    const stale: ListWatchSource = {
      async list<T extends KubeObject>(kind: ResourceKind, options?: ListOptions) {
        const list = await client.list<T>(kind, options);
        return ++lists === 1 ? { ...list, resourceVersion: '1' } : list;
      },
      async watch(kind, options, onEvent) {
        if (++watches === 1) await client.delete(widgetKind, NS, 'relist-a');
        return client.watch(kind, options, onEvent);
      },
    };
    const informer = createInformer({
      kind: widgetKind,
      namespace: NS,
      labelSelector: 'e2e=relist',
      source: stale,
      clock: systemClock,
    });
    closers.push(() => informer.close());
    const deletes: string[] = [];
    informer.addHandler({ onDelete: (o) => deletes.push(o.metadata?.name ?? '') });
    informer.start();
    await informer.waitForSync();
    await wait('the relist after the 410 to report relist-a deleted', () => deletes.includes('relist-a'));
    expect(lists).toBe(2);
    expect(informer.get(NS, 'relist-a')).toBeUndefined();

    // The watch from the relist's resourceVersion delivers what happens next.
    await client.apply(widget('relist-b'));
    await wait('relist-b in the cache', () => informer.get(NS, 'relist-b'));
    expect(lists).toBe(2);
  });
});

describe('leader election', () => {
  const timings = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };

  function candidate(identity: string, lease: string): { elector: LeaderElector; gauge(): Promise<number> } {
    const { client } = runtimeClient();
    const metrics = createMetrics(`operator_e2e_le_${identity}`, { defaultMetrics: false });
    const elector = createLeaderElector({
      leases: client.leases,
      lease: { namespace: NS, name: lease },
      identity,
      clock: systemClock,
      metrics: createRuntimeMetrics(metrics),
      ...timings,
    });
    closers.push(() => elector.close());
    return {
      elector,
      gauge: async () =>
        (await metrics.registry.getSingleMetric(`${metrics.prefix}leader`)?.get())?.values[0]?.value ?? -1,
    };
  }

  const holder = async (lease: string) =>
    (await kubectlGet<{ spec: { holderIdentity?: string } }>('lease', lease)).spec.holderIdentity ?? '';

  it('lets one of two candidates lead, and hands over within a retry period when it closes', async () => {
    const a = candidate('a', 'two-candidates');
    const b = candidate('b', 'two-candidates');
    a.elector.start();
    b.elector.start();
    const leaders = () => [a, b].filter((c) => c.elector.isLeader());
    await wait('a leader', () => leaders().length === 1);
    const first = leaders()[0]!;
    const second = first === a ? b : a;
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      expect(leaders()).toEqual([first]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await holder('two-candidates')).toBe(first.elector.identity);
    expect([await first.gauge(), await second.gauge()]).toEqual([1, 0]);

    const closedAt = Date.now();
    await first.elector.close();
    await wait('the other candidate to lead', () => second.elector.isLeader(), 10_000);
    expect(Date.now() - closedAt).toBeLessThan(timings.retryPeriodMs + 1_000);
    expect(await holder('two-candidates')).toBe(second.elector.identity);
    expect([await first.gauge(), await second.gauge()]).toEqual([0, 1]);
  });

  it('takes over from a killed leader only after the lease duration', async () => {
    const dist = fileURLToPath(new URL('../../libs/operator/dist/index.js', import.meta.url));
    expect(existsSync(dist), 'build the libs first: npx nx run-many -t build').toBe(true);
    const child = spawnCandidate('killed-leader');
    closers.push(async () => void child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('LEADING')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`candidate process exited (${code}): ${out}`)));
    });
    const follower = candidate('survivor', 'killed-leader');
    follower.elector.start();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(follower.elector.isLeader()).toBe(false);
    expect(await holder('killed-leader')).toBe('child');

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await wait('the survivor to lead', () => follower.elector.isLeader(), 15_000);
    const took = Date.now() - killedAt;
    // The child's last renewal was at most one retry period before the kill; the survivor
    // counts the lease duration from when it saw that renewal, then waits for its next round.
    expect(took).toBeGreaterThanOrEqual(timings.leaseDurationMs - timings.retryPeriodMs - 100);
    expect(took).toBeLessThan(timings.leaseDurationMs + 2 * timings.retryPeriodMs + 1_500);
    expect(await holder('killed-leader')).toBe('survivor');
  });

  /** A candidate in its own process, built from the lib's dist, that prints LEADING when it leads. */
  function spawnCandidate(lease: string): ChildProcess {
    const script = `
      const { createKubeClient, createLeaderElector, createRuntimeMetrics } = await import('@kraken/operator');
      const { createMetrics } = await import('@kraken/service-kit');
      const { systemClock } = await import('@kraken/foundation');
      const metrics = createRuntimeMetrics(createMetrics('child', { defaultMetrics: false }));
      const client = createKubeClient({ kubeconfigPath: process.env.E2E_KUBECONFIG, metrics });
      const elector = createLeaderElector({
        leases: client.leases,
        lease: { namespace: process.env.E2E_NAMESPACE, name: process.env.E2E_LEASE },
        identity: 'child',
        clock: systemClock,
        ...JSON.parse(process.env.E2E_TIMINGS),
        onStartedLeading: () => console.log('LEADING'),
      });
      elector.start();
      setInterval(() => {}, 60_000);
    `;
    return spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        E2E_KUBECONFIG: cp.kubeconfigPath,
        E2E_NAMESPACE: NS,
        E2E_LEASE: lease,
        E2E_TIMINGS: JSON.stringify(timings),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  }
});
