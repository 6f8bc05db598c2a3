/**
 * The operator against a real control plane (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok's fake nodes): `kubectl apply` of the CRDs, the operator's RBAC and a
 * KrakenCluster gives every object, Ready pods and a Ready status; changes roll exactly
 * the pods they concern; hand edits are undone; invalid specs and missing Secrets are
 * refused or reported by field with nothing applied; deletion collects everything; and
 * of two operators only the leader writes, the other taking over when it is killed.
 * The operator runs as a process with the token of the ServiceAccount of deploy/operator,
 * so its RBAC is proven sufficient.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from './support/kube/index.js';
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
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        hostNetwork?: boolean;
        priorityClassName?: string;
        initContainers?: { name: string; args?: string[] }[];
        containers: { image: string; args?: string[] }[];
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
  for (const file of ['deploy/crds', 'deploy/operator/00-namespace.yaml', 'deploy/operator/10-rbac.yaml']) {
    const result = await cp.kubectl(['apply', '-f', join(ROOT, file)]);
    if (result.code !== 0) throw new Error(`kubectl apply -f ${file}: ${result.stderr}`);
  }
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
  saKubeconfig = await cp.serviceAccountKubeconfig('kraken-system', 'kraken-operator');
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
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/replicaz/);
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
    const applied = await cp.kubectl(['apply', '-f', '-'], { input: rule });
    if (applied.code === 0) {
      // Not expressible in the CRD schema: the operator reports it.
      const status = await cp.waitFor(
        () =>
          cp
            .kubectlJson<KcJson>(['-n', 'alpha', 'get', 'replicationrule', 'bad-regex'])
            .catch(() => undefined),
        { what: 'the rule Degraded', until: (r) => condition(r, 'Degraded')?.status === 'True' },
      );
      expect(condition(status, 'Degraded')).toMatchObject({ reason: 'InvalidSpec' });
      expect(condition(status, 'Degraded')?.message).toMatch(/spec\.repositories/);
      await cp.kubectl([
        '-n',
        'alpha',
        'delete',
        'replicationrule',
        'bad-regex',
        '--wait=true',
        '--timeout=30s',
      ]);
    } else {
      expect(applied.stderr).toMatch(/spec\.repositories/);
    }
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
      'statefulsets,deployments,daemonsets,configmaps',
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

  it('leaves nothing behind when the KrakenCluster is deleted', async () => {
    await cp.kubectl(['-n', 'beta', 'delete', 'kc', 'sec']);
    await cp.waitFor(
      async () =>
        (
          await cp.kubectl([
            '-n',
            'beta',
            'get',
            'statefulsets,deployments,daemonsets,configmaps,services,pdb',
            '-l',
            `${INSTANCE}=sec`,
            '-o',
            'name',
          ])
        ).stdout.trim(),
      { what: 'every object of beta/sec collected', until: (names) => names === '', timeoutMs: 30_000 },
    );
  });

  it('lets only the leader write, and hands over when the leader is killed', async () => {
    const standby = await startOperator({
      name: 'operator-b',
      dir: cp.dir,
      kubeconfig: saKubeconfig,
      config: { leaderElection: LEASE },
    });
    operators.push(standby);
    const leader = operators[0]!;
    await cp.waitFor(() => standby.metric('kraken_operator_leader'), {
      what: 'standby started',
      until: (v) => v === 0,
    });
    expect(await leader.metric('kraken_operator_leader')).toBe(1);
    await cp.kubectl([
      '-n',
      'alpha',
      'patch',
      'kc',
      'reg',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { trackers: { replicas: 2 } } }),
    ]);
    await waitReady('alpha', 'reg');
    expect(await standby.metric('kraken_operator_api_writes_total')).toBe(0);

    await leader.kill();
    const killedAt = Date.now();
    await cp.waitFor(() => standby.metric('kraken_operator_leader'), {
      what: 'the standby leading',
      until: (v) => v === 1,
      timeoutMs: 15_000,
    });
    // Within the lease duration (4 s) plus a retry period and a scrape.
    expect(Date.now() - killedAt).toBeLessThan(LEASE.leaseDurationMs + 3000);
    await cp.kubectl([
      '-n',
      'alpha',
      'patch',
      'kc',
      'reg',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { origins: { replicas: 2 } } }),
    ]);
    const kc = await waitReady('alpha', 'reg');
    expect(kc.status?.origins).toEqual({ ready: 2, desired: 2 });
    expect(await standby.metric('kraken_operator_api_writes_total')).toBeGreaterThan(0);
  });
});
