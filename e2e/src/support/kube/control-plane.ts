/**
 * A real Kubernetes control plane for a test: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kwok (fake nodes in place of kubelets), each a process on 127.0.0.1 with
 * ports picked per run, and a temp directory per run holding the PKI, kubeconfigs, etcd's data
 * and every process's log. Test files may each run their own at once.
 *
 * Memory: about 600 MiB resident per control plane (apiserver 280-310, controller-manager 120,
 * scheduler 70, kwok 68, etcd 43); run no more than two or three at a time.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApiClient, type ApiClient } from './api-client.js';
import { kubeBinary, requireKubeBinaries, type KubeBinary } from './binaries.js';
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  etcdUrl,
  schedulerArgs,
  type ClusterLayout,
} from './component-flags.js';
import { startComponent, type ComponentProcess } from './component-process.js';
import { writeKubeconfig } from './kubeconfig.js';
import { createKubectl, type KubectlOptions, type KubectlResult } from './kubectl.js';
import { fakeNode, fakeNodeName, kwokArgs, writeKwokConfig } from './kwok.js';
import { freeLoopbackPorts, saysPortTaken } from './loopback-ports.js';
import { ADMIN, createPki, type ClientIdentity } from './pki.js';
import { waitFor, type WaitOptions } from './wait.js';

export type ComponentName = Exclude<KubeBinary, 'kubectl'>;

export interface ControlPlaneOptions {
  /** Fake nodes, Ready and untainted before start resolves (default 1). */
  readonly nodes?: number;
  /** For each start phase (default 60 s: a cold start on a busy machine is slow). */
  readonly phaseTimeoutMs?: number;
  /** Aborting stops the start, or closes a started control plane. */
  readonly signal?: AbortSignal;
}

/** Milliseconds from the start of the (successful) attempt to the end of each phase. */
export interface StartupTimings {
  readonly pki: number;
  readonly etcd: number;
  readonly apiserver: number;
  /** Controller-manager and scheduler healthy, nodes Ready, the default ServiceAccount there. */
  readonly ready: number;
}

export interface ControlPlane {
  /** The run's temp directory; removed by close(). */
  readonly dir: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** Admin (`system:masters`) kubeconfig with embedded credentials. */
  readonly kubeconfigPath: string;
  /** The CA that signed the apiserver's certificate and every client certificate. */
  readonly caFile: string;
  readonly nodeNames: readonly string[];
  /** Process ids (each a process group leader) of the running components. */
  readonly pids: Readonly<Record<ComponentName, number>>;
  readonly startup: StartupTimings;
  /** kubectl as admin, or with `options.kubeconfig`; resolves with the exit code. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** `kubectl <args> -o json`, parsed; rejects on a non-zero exit. */
  kubectlJson<T>(args: readonly string[], options?: KubectlOptions): Promise<T>;
  /** `kubectl apply -f -` of YAML or JSON; rejects on a non-zero exit. */
  apply(manifest: string, options?: KubectlOptions): Promise<void>;
  /** waitFor that also gives up, with its log, as soon as a component dies. */
  waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions<T>): Promise<T>;
  /**
   * A kubeconfig holding a token of that existing ServiceAccount (TokenRequest API, one hour),
   * its namespace as the default: the identity an in-cluster operator has.
   */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /** A kubeconfig with a client certificate for any user and groups. */
  userKubeconfig(identity: ClientIdentity): Promise<string>;
  /** The last lines of a component's log. */
  logTail(component: ComponentName, lines?: number): Promise<string>;
  /** Kills every process group, removes the temp directory. Idempotent. */
  close(): Promise<void>;
}

/** Starts a control plane; on failure, everything started is stopped and removed again. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  await requireKubeBinaries();
  // A port picked free can be taken by another test's process before ours binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt === 3) throw err;
    }
  }
}

const STOP_ORDER: readonly (readonly ComponentName[])[] = [
  ['kwok', 'kube-scheduler', 'kube-controller-manager'],
  ['kube-apiserver'],
  ['etcd'],
];

class ComponentExitedError extends Error {
  constructor(readonly component: ComponentProcess) {
    super(`${component.name} exited (${component.exitStatus()})`);
  }
}

class PortTakenError extends Error {}

async function startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const phaseTimeoutMs = options.phaseTimeoutMs ?? 60_000;
  // Ends the other readiness waits once one has failed, as well as on the caller's signal.
  const startAborted = new AbortController();
  const startSignal =
    options.signal === undefined
      ? startAborted.signal
      : AbortSignal.any([options.signal, startAborted.signal]);
  const dir = await mkdtemp(join(tmpdir(), 'kraken-kube-'));
  const components = new Map<ComponentName, ComponentProcess>();
  let api: ApiClient | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      api?.close();
      // Clients first: an apiserver whose etcd is gone takes 10 s to stop, etcd with the
      // apiserver still connected 7 s; in this order all stop in about a second.
      for (const tier of STOP_ORDER) await Promise.all(tier.map((name) => components.get(name)?.stop()));
      await rm(dir, { recursive: true, force: true });
    })());

  const failFast = async (): Promise<Error | undefined> => {
    for (const component of components.values())
      if (component.exitStatus() !== undefined) return new ComponentExitedError(component);
    return undefined;
  };
  const start = (name: ComponentName, args: readonly string[], env?: Record<string, string>) => {
    const component = startComponent({
      name,
      binary: kubeBinary(name),
      args,
      logFile: join(dir, 'logs', `${name}.log`),
      env,
    });
    components.set(name, component);
    return component;
  };
  /** Waits for one component's readiness; a failure carries the log of the one to blame. */
  const ready = async (component: ComponentProcess, probe: () => Promise<unknown>, what: string) => {
    try {
      await waitFor(probe, {
        what,
        until: (value) => value === true,
        timeoutMs: phaseTimeoutMs,
        intervalMs: 50,
        failFast,
        signal: startSignal,
      });
      // A process that lost its port to another one exits at once, but that other one (say a
      // parallel test's etcd) may have answered the probe meanwhile.
      const dead = await failFast();
      if (dead !== undefined) throw new Error(`${what} answered, but ${dead.message}`, { cause: dead });
    } catch (err) {
      const { cause } = err as Error;
      const blamed = cause instanceof ComponentExitedError ? cause.component : component;
      const tail = await blamed.logTail();
      const message =
        `control plane did not start: ${(err as Error).message}\n` +
        `--- ${blamed.name} log (last lines) ---\n${tail}`;
      throw saysPortTaken(tail)
        ? new PortTakenError(message, { cause: err })
        : new Error(message, { cause: err });
    }
  };

  try {
    await Promise.all(['logs', 'pki', 'kubeconfigs', 'apiserver', 'kwok'].map((d) => mkdir(join(dir, d))));
    const [pki, ports] = await Promise.all([
      createPki(join(dir, 'pki')),
      freeLoopbackPorts(['etcdClient', 'etcdPeer', 'apiserver', 'controllerManager', 'scheduler']),
    ]);
    const pkiDone = elapsed();
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const kubeconfig = join(dir, 'kubeconfigs', 'admin.json');
    const layout: ClusterLayout = {
      pki,
      kubeconfig,
      etcd: { dataDir: join(dir, 'etcd'), clientPort: ports.etcdClient, peerPort: ports.etcdPeer },
      apiserver: { port: ports.apiserver, certDir: join(dir, 'apiserver') },
      controllerManagerPort: ports.controllerManager,
      schedulerPort: ports.scheduler,
    };
    const kwokConfig = join(dir, 'kwok', 'kwok.yaml');
    await Promise.all([
      writeKubeconfig({
        path: kubeconfig,
        server,
        caFile: pki.ca.cert,
        user: ADMIN.user,
        credentials: { kind: 'certificate', pair: pki.admin },
      }),
      writeKwokConfig(kwokConfig),
    ]);
    api = await createApiClient({ caFile: pki.ca.cert, client: pki.admin });
    const client = api;

    const etcd = start('etcd', etcdArgs(layout));
    await ready(
      etcd,
      async () => {
        const res = await fetch(`${etcdUrl(layout)}/health`, { signal: AbortSignal.timeout(2000) });
        return ((await res.json()) as { health?: string }).health === 'true';
      },
      'etcd /health',
    );
    const etcdDone = elapsed();

    const apiserver = start('kube-apiserver', apiserverArgs(layout));
    await ready(
      apiserver,
      async () => (await client.request('GET', `${server}/readyz`)).status === 200,
      'kube-apiserver /readyz',
    );
    const apiserverDone = elapsed();

    const controllerManager = start('kube-controller-manager', controllerManagerArgs(layout));
    const scheduler = start('kube-scheduler', schedulerArgs(layout));
    // kwok reads ~/.kwok/kwok.yaml when there is one: not the user's, then.
    const kwok = start('kwok', kwokArgs({ kubeconfig, config: kwokConfig }), { HOME: join(dir, 'kwok') });
    const nodeCount = options.nodes ?? 1;
    const nodeNames = Array.from({ length: nodeCount }, (_, i) => fakeNodeName(i));
    await Promise.all([
      ready(controllerManager, healthz(client, ports.controllerManager), 'kube-controller-manager /healthz'),
      ready(scheduler, healthz(client, ports.scheduler), 'kube-scheduler /healthz'),
      (async () => {
        for (let i = 0; i < nodeCount; i++) {
          const res = await client.request('POST', `${server}/api/v1/nodes`, fakeNode(i));
          if (res.status !== 201)
            throw new Error(`creating node ${fakeNodeName(i)}: ${res.status} ${res.body}`);
        }
        await ready(
          kwok,
          () => nodesReady(client, server, nodeNames),
          `${nodeCount} fake nodes Ready and untainted`,
        );
      })(),
      // Pods are refused in a namespace until its ServiceAccount controller made `default`.
      ready(
        controllerManager,
        async () =>
          (await client.getJson(`${server}/api/v1/namespaces/default/serviceaccounts/default`)) !== undefined,
        'ServiceAccount default/default',
      ),
    ]);

    const pids = Object.fromEntries([...components].map(([name, c]) => [name, c.pid])) as Record<
      ComponentName,
      number
    >;
    const kubectl = createKubectl({ kubeconfig, cacheDir: join(dir, 'kubectl-cache') });
    const plane: ControlPlane = {
      dir,
      server,
      kubeconfigPath: kubeconfig,
      caFile: pki.ca.cert,
      nodeNames,
      pids,
      startup: { pki: pkiDone, etcd: etcdDone, apiserver: apiserverDone, ready: elapsed() },
      kubectl: (args, opts) => kubectl.run(args, opts),
      kubectlJson: (args, opts) => kubectl.json(args, opts),
      async apply(manifest, opts) {
        const result = await kubectl.run(['apply', '-f', '-'], { ...opts, input: manifest });
        if (result.code !== 0) throw new Error(`kubectl apply failed (${result.code}): ${result.stderr}`);
      },
      waitFor: async (probe, waitOptions) => {
        try {
          return await waitFor(probe, { ...waitOptions, failFast: waitOptions.failFast ?? failFast });
        } catch (err) {
          const cause = (err as Error).cause;
          if (!(cause instanceof ComponentExitedError)) throw err;
          throw new Error(
            `${(err as Error).message}\n--- ${cause.component.name} log ---\n${await cause.component.logTail()}`,
            { cause: err },
          );
        }
      },
      async serviceAccountKubeconfig(namespace, name) {
        const token = await kubectl.run(['create', 'token', name, '-n', namespace, '--duration=3600s']);
        if (token.code !== 0)
          throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name}: ${token.stderr}`);
        return writeKubeconfig({
          path: join(dir, 'kubeconfigs', `sa-${namespace}-${name}.json`),
          server,
          caFile: pki.ca.cert,
          user: `system:serviceaccount:${namespace}:${name}`,
          credentials: { kind: 'token', token: token.stdout.trim() },
          namespace,
        });
      },
      async userKubeconfig(identity) {
        const file = `user-${identity.user.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
        const pair = await pki.issueClient(file, identity);
        return writeKubeconfig({
          path: join(dir, 'kubeconfigs', `${file}.json`),
          server,
          caFile: pki.ca.cert,
          user: identity.user,
          credentials: { kind: 'certificate', pair },
        });
      },
      logTail: async (component, lines) => (await components.get(component)?.logTail(lines)) ?? '',
      close,
    };
    options.signal?.addEventListener('abort', () => void close(), { once: true });
    return plane;
  } catch (err) {
    startAborted.abort();
    await close();
    throw err;
  }
}

function healthz(client: ApiClient, port: number): () => Promise<boolean> {
  return async () => (await client.request('GET', `https://127.0.0.1:${port}/healthz`)).status === 200;
}

interface NodeList {
  items: {
    metadata: { name: string };
    spec: { taints?: { key: string; effect: string }[] };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}

/** True once every node is Ready without taints; otherwise what each node looks like. */
async function nodesReady(
  client: ApiClient,
  server: string,
  names: readonly string[],
): Promise<true | Record<string, string>> {
  const list = await client.getJson<NodeList>(`${server}/api/v1/nodes`);
  const seen: Record<string, string> = Object.fromEntries(names.map((name) => [name, 'missing']));
  for (const node of list?.items ?? []) {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'no Ready condition';
    const taints = (node.spec.taints ?? []).map((t) => `${t.key}:${t.effect}`);
    seen[node.metadata.name] = `Ready=${ready}${taints.length > 0 ? ` taints=${taints.join(',')}` : ''}`;
  }
  return Object.values(seen).every((state) => state === 'Ready=True') ? true : seen;
}
