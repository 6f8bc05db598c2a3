/**
 * The operator against a real control plane (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok's fake nodes): `kubectl apply` of the CRDs, the operator's RBAC and a
 * KrakenCluster gives every object, Ready pods and a Ready status; changes roll exactly
 * the pods they concern; hand edits are undone; invalid specs and missing Secrets are
 * refused or reported by field with nothing applied; deletion collects everything; and
 * the example of deploy/examples converges once the Secrets it names exist. (Two
 * operators and their Lease: operator-leader.test.ts.) The operator runs as a process
 * with the token of the ServiceAccount of deploy/operator, so its RBAC is proven
 * sufficient, and the same token is shown to lack what the operator does not need.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from './support/kube/index.js';
import { installOperatorApi } from './support/operator/operator-install.js';
import { startOperator, type OperatorProcess } from './support/operator/operator-process.js';
import { scrape } from './support/prometheus-text.js';

const ROOT = join(import.meta.dirname, '../..');
const INSTANCE = 'app.kubernetes.io/instance';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface KcJson {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    origins?: { ready: number; desired: number };
  };
}
interface Workload {
  metadata: { generation: number; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
  spec: {
    replicas?: number;
    volumeClaimTemplates?: { spec: { resources: { requests: { storage: string } } } }[];
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        hostNetwork?: boolean;
        priorityClassName?: string;
        initContainers?: { name: string; args?: string[] }[];
        containers: {
          image: string;
          args?: string[];
          ports?: unknown[];
          env?: unknown[];
          resources?: unknown;
        }[];
        volumes?: { name: string; secret?: { secretName: string }; hostPath?: unknown }[];
      };
    };
  };
}

let cp: ControlPlane;
let saKubeconfig: string;
const operators: OperatorProcess[] = [];
const LEASE = {
  leaseNamespace: 'kraken-system',
  leaseDurationMs: 4000,
  renewDeadlineMs: 3000,
  retryPeriodMs: 500,
};

const condition = (kc: KcJson | undefined, type: string) =>
  kc?.status?.conditions?.find((c) => c.type === type);
const getKc = (ns: string, name: string) =>
  cp.kubectlJson<KcJson>(['-n', ns, 'get', 'krakencluster', name]).catch(() => undefined);

function clusterYaml(ns: string, name: string, spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'kraken.dev/v1alpha1',
    kind: 'KrakenCluster',
    metadata: { name, namespace: ns },
    spec: {
      image: 'registry.example.com/kraken:1.0.0',
      origins: { replicas: 2, volume: { size: '2Gi' }, cacheSize: '1Gi' },
      trackers: { replicas: 1 },
      buildIndex: { replicas: 1, volume: { size: '1Gi' } },
      proxy: { replicas: 1 },
      agents: { pushRegistries: ['registry.example.com'] },
      ...spec,
    },
  });
}

async function waitReady(ns: string, name: string, timeoutMs = 30_000): Promise<KcJson> {
  const kc = await cp.waitFor(() => getKc(ns, name), {
    what: `KrakenCluster ${ns}/${name} Ready at its generation`,
    timeoutMs,
    until: (kc) =>
      kc !== undefined &&
      condition(kc, 'Ready')?.status === 'True' &&
      kc.status?.observedGeneration === kc.metadata.generation,
  });
  if (kc === undefined) throw new Error(`KrakenCluster ${ns}/${name} is gone`);
  return kc;
}

const workload = (ns: string, kind: string, name: string) =>
  cp.kubectlJson<Workload>(['-n', ns, 'get', kind, name]);
const configHash = (w: Workload) => w.spec.template.metadata.annotations?.['kraken.dev/config-hash'];
/** API writes of every operator, by verb and kind. */
const writes = async (): Promise<Record<string, number>> => {
  const byLabel: Record<string, number> = {};
  for (const op of operators)
    for (const s of await scrape(op.url))
      if (s.name === 'kraken_operator_api_writes_total') {
        // Renewing the leader Lease is a write by design, not part of any reconcile.
        if (s.labels.kind === 'Lease') continue;
        const key = `${s.labels.verb} ${s.labels.kind}`;
        byLabel[key] = (byLabel[key] ?? 0) + s.value;
      }
  return byLabel;
};

beforeAll(async () => {
  cp = await startControlPlane({ nodes: 2 });
  saKubeconfig = await installOperatorApi(cp);
  // No storage provisioner runs here: pre-made volumes for the rings' claims.
  const volumes = Array.from({ length: 16 }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `pv-${i}` },
    spec: {
      capacity: { storage: '10Gi' },
      accessModes: ['ReadWriteOnce'],
      hostPath: { path: `/tmp/pv-${i}` },
      persistentVolumeReclaimPolicy: 'Delete',
    },
  }));
  await cp.apply(volumes.map((v) => stringify(v)).join('---\n'));
  operators.push(
    await startOperator({
      name: 'operator-a',
      dir: cp.dir,
      kubeconfig: saKubeconfig,
      config: { leaderElection: LEASE, workQueue: { backoffMaxMs: 2000 } },
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const op of operators) await op.stop();
  await cp?.close();
});

describe('operator on a real control plane', () => {
  it('turns a KrakenCluster into its objects, Ready within 30 s', async () => {
    await cp.kubectl(['create', 'namespace', 'alpha']);
    await cp.apply(clusterYaml('alpha', 'reg'));
    const kc = await waitReady('alpha', 'reg');
    expect(kc.status?.origins).toEqual({ ready: 2, desired: 2 });
    expect(condition(kc, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });

    const origins = await workload('alpha', 'statefulset', 'reg-origin');
    expect(origins.spec.replicas).toBe(2);
    expect(origins.spec.template.spec.containers[0]?.image).toBe('registry.example.com/kraken:1.0.0');
    expect(origins.spec.template.spec.containers[0]?.args?.slice(0, 1)).toEqual(['origin']);
    expect(origins.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'KrakenCluster', name: 'reg', controller: true }),
    ]);
    expect(configHash(origins)).toMatch(/^[0-9a-f]{16,64}$/);
    const agents = await workload('alpha', 'daemonset', 'reg-agent');
    expect(agents.spec.template.spec.hostNetwork).toBe(true);
    expect(agents.spec.template.spec.priorityClassName).toBe('system-node-critical');
    const setup = agents.spec.template.spec.initContainers?.find((c) => c.name === 'setup-containerd');
    expect(setup?.args).toEqual(expect.arrayContaining(['setup-containerd', 'registry.example.com']));
    const services = await cp.kubectlJson<{
      items: { metadata: { name: string }; spec: { clusterIP: string } }[];
    }>(['-n', 'alpha', 'get', 'services', '-l', `${INSTANCE}=reg`]);
    expect(
      services.items
        .filter((s) => s.spec.clusterIP === 'None')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['reg-build-index-headless', 'reg-origin-headless', 'reg-tracker-headless']);
    const pdbs = await cp.kubectl(['-n', 'alpha', 'get', 'pdb', '-o', 'name']);
    expect(pdbs.stdout.trim().split('\n').sort()).toEqual([
      'poddisruptionbudget.policy/reg-build-index',
      'poddisruptionbudget.policy/reg-origin',
      'poddisruptionbudget.policy/reg-tracker',
    ]);
    const table = await cp.kubectl(['-n', 'alpha', 'get', 'kc']);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+ORIGINS\s+AGENTS/m);
    expect(table.stdout).toMatch(/^reg\s+True\s+2\s+2/m);
  });

  it('writes nothing while nothing changes', async () => {
    const before = await writes();
    // Long enough for several owned-object events and status reads to pass through.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(await writes()).toEqual(before);
  });

  it('runs with no more rights than deploy/operator grants', async () => {
    // Every test here runs it with the ServiceAccount's token (the last one checks that no
    // request was refused); what that token may not do:
    for (const [verb, resource] of [
      ['list', 'secrets'],
      ['watch', 'secrets'],
      ['delete', 'statefulsets.apps'],
      ['update', 'krakenclusters.kraken.dev'],
      ['get', 'pods'],
      ['create', 'leases.coordination.k8s.io'],
    ] as const) {
      const namespace = resource.startsWith('leases') ? 'alpha' : 'kraken-system';
      const answer = await cp.kubectl(['auth', 'can-i', verb, resource, '-n', namespace], {
        kubeconfig: saKubeconfig,
      });
      expect(`${verb} ${resource}: ${answer.stdout.trim()}`).toBe(`${verb} ${resource}: no`);
    }
  });

  it('rolls exactly the pods whose config a spec change touches; observedGeneration follows', async () => {
    const originBefore = await workload('alpha', 'statefulset', 'reg-origin');
    const agentBefore = await workload('alpha', 'daemonset', 'reg-agent');
    const agentPodsBefore = (
      await cp.kubectl([
        '-n',
        'alpha',
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/component=agent',
        '-o',
        'name',
      ])
    ).stdout;
    await cp.kubectl([
      '-n',
      'alpha',
      'patch',
      'kc',
      'reg',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { agents: { bandwidth: { ingressBytesPerSecond: 123_000_000 } } } }),
    ]);
    await cp.waitFor(() => workload('alpha', 'daemonset', 'reg-agent'), {
      what: 'the agent DaemonSet with a new config hash',
      until: (ds) => configHash(ds) !== configHash(agentBefore),
    });
    expect(configHash(await workload('alpha', 'statefulset', 'reg-origin'))).toBe(configHash(originBefore));
    const config = await cp.kubectlJson<{ data: Record<string, string> }>([
      '-n',
      'alpha',
      'get',
      'configmap',
      'reg-agent-config',
    ]);
    expect(Object.values(config.data).join('\n')).toContain('123000000');
    await cp.waitFor(
      async () =>
        (
          await cp.kubectl([
            '-n',
            'alpha',
            'get',
            'pods',
            '-l',
            'app.kubernetes.io/component=agent',
            '-o',
            'name',
          ])
        ).stdout,
      {
        what: 'agent pods replaced',
        until: (names) =>
          names
            .split('\n')
            .filter(Boolean)
            .every((n) => !agentPodsBefore.includes(n)),
      },
    );

    // The image and the number of origins: every workload follows.
    await cp.kubectl([
      '-n',
      'alpha',
      'patch',
      'kc',
      'reg',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { image: 'registry.example.com/kraken:1.0.1', origins: { replicas: 3 } } }),
    ]);
    const kc = await waitReady('alpha', 'reg');
    expect(kc.metadata.generation).toBe(3);
    expect(kc.status?.origins).toEqual({ ready: 3, desired: 3 });
    const origins = await workload('alpha', 'statefulset', 'reg-origin');
    expect(origins.spec.template.spec.containers[0]?.image).toBe('registry.example.com/kraken:1.0.1');
  });

  it('restores a managed object edited or deleted by hand', async () => {
    await cp.kubectl(['-n', 'alpha', 'scale', 'statefulset', 'reg-origin', '--replicas=1']);
    await cp.kubectl(['-n', 'alpha', 'delete', 'configmap', 'reg-tracker-config']);
    await cp.waitFor(() => workload('alpha', 'statefulset', 'reg-origin'), {
      what: 'origin replicas restored to 3',
      until: (sts) => sts.spec.replicas === 3,
    });
    await cp.waitFor(
      async () => (await cp.kubectl(['-n', 'alpha', 'get', 'configmap', 'reg-tracker-config'])).code,
      {
        what: 'tracker ConfigMap recreated',
        until: (code) => code === 0,
      },
    );
  });

  it('refuses invalid specs in the CRD schema, naming the field', async () => {
    const negative = await cp.kubectl(['apply', '-f', '-'], {
      input: clusterYaml('alpha', 'bad', {
        origins: { replicas: -1, volume: { size: '2Gi' }, cacheSize: '1Gi' },
      }),
    });
    expect(negative.code).not.toBe(0);
    expect(negative.stderr).toMatch(/spec\.origins\.replicas/);
    const unknown = await cp.kubectl(['apply', '-f', '-'], {
      input: clusterYaml('alpha', 'bad', {
        origins: { replicas: 1, replicaz: 2, volume: { size: '2Gi' }, cacheSize: '1Gi' },
      }),
    });
    // kubectl asks the apiserver for strict field validation: refused, by name.
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown field "spec\.origins\.replicaz"/);
    // Without it, the structural schema prunes the field; nothing unknown is stored.
    const pruned = await cp.kubectlJson<{ spec: { origins: Record<string, unknown> } }>(
      ['apply', '--validate=false', '--dry-run=server', '-f', '-'],
      {
        input: clusterYaml('alpha', 'bad', {
          origins: { replicas: 1, replicaz: 2, volume: { size: '2Gi' }, cacheSize: '1Gi' },
        }),
      },
    );
    expect(pruned.spec.origins).toMatchObject({ replicas: 1 });
    expect(pruned.spec.origins).not.toHaveProperty('replicaz');
    const rule = stringify({
      apiVersion: 'kraken.dev/v1alpha1',
      kind: 'ReplicationRule',
      metadata: { name: 'bad-regex', namespace: 'alpha' },
      spec: {
        cluster: 'reg',
        repositories: 'team/(unclosed',
        destination: { discover: 'http://remote:15004' },
      },
    });
    // A regular expression's validity is not expressible in the CRD schema: accepted, then
    // reported by the operator, and never written to a build-index (so no finalizer).
    const applied = await cp.kubectl(['apply', '-f', '-'], { input: rule });
    expect(applied.code, applied.stderr).toBe(0);
    const status = await cp.waitFor(
      () =>
        cp.kubectlJson<KcJson & { metadata: { finalizers?: string[] } }>([
          '-n',
          'alpha',
          'get',
          'replicationrule',
          'bad-regex',
        ]),
      { what: 'the rule Degraded', until: (r) => condition(r, 'Degraded')?.status === 'True' },
    );
    expect(condition(status, 'Degraded')).toMatchObject({ reason: 'InvalidSpec' });
    expect(condition(status, 'Degraded')?.message).toMatch(/spec\.repositories/);
    expect(status.metadata.finalizers ?? []).toEqual([]);
    const deleted = await cp.kubectl([
      '-n',
      'alpha',
      'delete',
      'replicationrule',
      'bad-regex',
      '--timeout=30s',
    ]);
    expect(deleted.code, deleted.stderr).toBe(0);
  });

  it('reports a missing Secret as Degraded naming the field, applies nothing, and converges once it exists', async () => {
    await cp.kubectl(['create', 'namespace', 'beta']);
    await cp.apply(
      clusterYaml('beta', 'sec', {
        // Beside alpha's agents on the same nodes: other host ports.
        agents: { pushRegistries: ['registry.example.com'], registryPort: 17000, p2pPort: 17001 },
        proxy: {
          replicas: 1,
          auth: { htpasswd: { secret: { name: 'users', key: 'htpasswd' } }, anonymousPull: ['**'] },
        },
      }),
    );
    const kc = await cp.waitFor(() => getKc('beta', 'sec'), {
      what: 'KrakenCluster beta/sec Degraded',
      until: (k) => condition(k, 'Degraded')?.status === 'True',
    });
    expect(condition(kc, 'Degraded')?.reason).toBe('SecretMissing');
    expect(condition(kc, 'Degraded')?.message).toMatch(/spec\.proxy\.auth\.htpasswd/);
    expect(condition(kc, 'Degraded')?.message).toMatch(/"users"/);
    const objects = await cp.kubectl([
      '-n',
      'beta',
      'get',
      'statefulsets,deployments,daemonsets,configmaps,services,pdb',
      '-l',
      `${INSTANCE}=sec`,
      '-o',
      'name',
    ]);
    expect(objects.stdout.trim()).toBe('');

    await cp.kubectl([
      '-n',
      'beta',
      'create',
      'secret',
      'generic',
      'users',
      '--from-literal=htpasswd=ci:$2y$05$abcdefghijklmnopqrstuuK0cQn4oV6V2s5Bfx3r1kcRLZb7k5Ie',
    ]);
    const ready = await waitReady('beta', 'sec');
    expect(condition(ready, 'Degraded')?.status).toBe('False');
  });

  it('leaves nothing behind when a KrakenCluster is deleted', async () => {
    // alpha/reg went through rollouts and repairs; beta/sec started Degraded.
    await cp.kubectl(['-n', 'beta', 'delete', 'kc', 'sec', '--wait=false']);
    await cp.kubectl(['-n', 'alpha', 'delete', 'kc', 'reg', '--wait=false']);
    for (const [ns, name] of [
      ['beta', 'sec'],
      ['alpha', 'reg'],
    ] as const)
      await cp.waitFor(
        async () =>
          (
            await cp.kubectl([
              '-n',
              ns,
              'get',
              'statefulsets,deployments,daemonsets,configmaps,services,pdb,pods',
              '-l',
              `${INSTANCE}=${name}`,
              '-o',
              'name',
            ])
          ).stdout.trim(),
        { what: `every object of ${ns}/${name} collected`, until: (names) => names === '' },
      );
  });

  it('converges the example of deploy/examples once the Secrets it names exist', async () => {
    // The example's first document; the second is a cert-manager Certificate, whose CRD is
    // not installed here: its Secret is made by hand below, as cert-manager would.
    const documents = parseAllDocuments(
      await readFile(join(ROOT, 'deploy/examples/krakencluster.yaml'), 'utf8'),
    ).map((doc) => doc.toJS() as { kind: string; metadata: { name: string; namespace: string } });
    const example = documents.find((doc) => doc.kind === 'KrakenCluster')!;
    const { name, namespace: ns } = example.metadata;
    await cp.kubectl(['create', 'namespace', ns]);
    const secrets: Record<string, string[]> = {
      'kraken-s3': ['accessKeyId', 'secretAccessKey'],
      'dockerhub-pull': ['credentials.json'],
      'registry-users': ['htpasswd'],
      'registry-example-com-tls': ['tls.crt', 'tls.key'],
      'kraken-tls': ['tls.crt', 'tls.key', 'ca.crt'],
    };
    for (const [secret, keys] of Object.entries(secrets)) {
      const created = await cp.kubectl([
        '-n',
        ns,
        'create',
        'secret',
        'generic',
        secret,
        ...keys.map((key) => `--from-literal=${key}=placeholder`),
      ]);
      expect(created.code, created.stderr).toBe(0);
    }
    // The origins claim 100Gi each.
    await cp.apply(
      [0, 1, 2]
        .map((i) =>
          stringify({
            apiVersion: 'v1',
            kind: 'PersistentVolume',
            metadata: { name: `pv-large-${i}` },
            spec: {
              capacity: { storage: '100Gi' },
              accessModes: ['ReadWriteOnce'],
              hostPath: { path: `/tmp/pv-large-${i}` },
              persistentVolumeReclaimPolicy: 'Delete',
            },
          }),
        )
        .join('---\n'),
    );
    await cp.apply(stringify(example));
    const kc = await waitReady(ns, name);
    expect(kc.status?.origins).toEqual({ ready: 3, desired: 3 });

    const origins = await workload(ns, 'statefulset', `${name}-origin`);
    const origin = origins.spec.template.spec.containers[0];
    expect(origins.spec.replicas).toBe(3);
    expect(origin?.ports).toEqual([
      { name: 'http', containerPort: 15002, protocol: 'TCP' },
      { name: 'p2p', containerPort: 15001, protocol: 'TCP' },
    ]);
    expect(origin?.resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '4Gi' } });
    expect(origin?.env).toEqual(
      expect.arrayContaining([
        {
          name: 'AWS_ACCESS_KEY_ID',
          valueFrom: { secretKeyRef: { name: 'kraken-s3', key: 'accessKeyId' } },
        },
      ]),
    );
    expect(origins.spec.volumeClaimTemplates?.[0]?.spec.resources.requests.storage).toBe('100Gi');
    expect((await workload(ns, 'statefulset', `${name}-tracker`)).spec.replicas).toBe(2);
    expect((await workload(ns, 'statefulset', `${name}-build-index`)).spec.replicas).toBe(2);
    const proxy = await workload(ns, 'deployment', `${name}-proxy`);
    expect(proxy.spec.replicas).toBe(2);
    expect(proxy.spec.template.spec.volumes?.map((v) => v.secret?.secretName).filter(Boolean)).toEqual(
      expect.arrayContaining(['registry-example-com-tls', 'registry-users']),
    );
    const service = await cp.kubectlJson<{ spec: { type: string; ports: { port: number }[] } }>([
      '-n',
      ns,
      'get',
      'service',
      `${name}-proxy`,
    ]);
    expect(service.spec).toMatchObject({ type: 'LoadBalancer', ports: [{ port: 443 }] });
    const agents = await workload(ns, 'daemonset', `${name}-agent`);
    expect(agents.spec.template.spec.volumes).toEqual(
      expect.arrayContaining([
        { name: 'data', hostPath: { path: '/var/lib/kraken-agent', type: 'DirectoryOrCreate' } },
      ]),
    );
    const setup = agents.spec.template.spec.initContainers?.find((c) => c.name === 'setup-containerd');
    expect(setup?.args).toEqual(expect.arrayContaining(['docker.io,registry.example.com']));
    // Reason is a wide column (priority 1).
    const table = await cp.kubectl(['-n', ns, 'get', 'kc', '-o', 'wide']);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+ORIGINS\s+AGENTS\s+REASON\s+AGE/m);
    expect(table.stdout).toMatch(new RegExp(`^${name}\\s+True\\s+3\\s+2\\s+AllComponentsReady`, 'm'));

    // Through every test of this file, the ServiceAccount's RBAC refused no request.
    expect(operators[0]!.log()).not.toMatch(/forbidden/i);
  });
});
