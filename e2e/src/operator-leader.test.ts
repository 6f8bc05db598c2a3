/**
 * Two operator processes on one control plane, both with the token of the operator's
 * ServiceAccount and a short lease (3 s): only the holder of the Lease reconciles and
 * writes, the other sends no write at all and reports leader 0; after a SIGKILL of the
 * leader the other takes the Lease within the lease duration and reconciles a change
 * made while no one led; a leader stopped with SIGTERM releases the Lease, so a third
 * takes over without waiting for it to expire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from './support/kube/index.js';
import { OPERATOR_NAMESPACE, installOperatorApi } from './support/operator/operator-install.js';
import { startOperator, type OperatorProcess } from './support/operator/operator-process.js';

const NS = 'leader';
const LEASE = {
  leaseName: 'kraken-operator',
  leaseNamespace: OPERATOR_NAMESPACE,
  leaseDurationMs: 3000,
  renewDeadlineMs: 2000,
  retryPeriodMs: 500,
};

interface Workload {
  spec: { replicas?: number };
}
interface KcJson {
  metadata: { generation: number };
  status?: { observedGeneration?: number };
}

let cp: ControlPlane;
let kubeconfig: string;
const operators: OperatorProcess[] = [];

const start = async (name: string) => {
  const op = await startOperator({
    name,
    dir: cp.dir,
    kubeconfig,
    config: { leaderElection: LEASE },
  });
  operators.push(op);
  return op;
};
const leading = (op: OperatorProcess) => op.metric('kraken_operator_leader');
const writes = (op: OperatorProcess) => op.metric('kraken_operator_api_writes_total');
const holder = async () =>
  (
    await cp.kubectlJson<{ spec: { holderIdentity?: string } }>([
      '-n',
      OPERATOR_NAMESPACE,
      'get',
      'lease',
      LEASE.leaseName,
    ])
  ).spec.holderIdentity ?? '';
/** The leader elector's identity names the process: `<host>_<pid>_<random>`. */
const isHolder = (op: OperatorProcess, identity: string) => identity.includes(`_${op.proc.pid}_`);
const replicas = async (kind: string, name: string) =>
  (await cp.kubectlJson<Workload>(['-n', NS, 'get', kind, name])).spec.replicas;
const reconciled = async () => {
  const kc = await cp.kubectlJson<KcJson>(['-n', NS, 'get', 'kc', 'reg']);
  return kc.status?.observedGeneration === kc.metadata.generation;
};
const patchKc = (spec: Record<string, unknown>) =>
  cp.kubectl(['-n', NS, 'patch', 'kc', 'reg', '--type=merge', '-p', JSON.stringify({ spec })]);

beforeAll(async () => {
  cp = await startControlPlane({ nodes: 1 });
  kubeconfig = await installOperatorApi(cp);
  await cp.kubectl(['create', 'namespace', NS]);
  await cp.apply(
    stringify({
      apiVersion: 'kraken.dev/v1alpha1',
      kind: 'KrakenCluster',
      metadata: { name: 'reg', namespace: NS },
      spec: {
        image: 'registry.example.com/kraken:0.1.0',
        origins: { replicas: 1, ringReplicas: 1, volume: { size: '1Gi' }, cacheSize: '512Mi' },
        trackers: { replicas: 1 },
        buildIndex: { replicas: 1, volume: { size: '1Gi' } },
      },
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(operators.map((op) => op.stop()));
  await cp?.close();
});

describe('operator leader election', () => {
  let first: OperatorProcess;
  let second: OperatorProcess;

  it('lets only the leader reconcile and write', async () => {
    first = await start('operator-a');
    await cp.waitFor(() => leading(first), { what: 'operator-a leading', until: (v) => v === 1 });
    second = await start('operator-b');
    await cp.waitFor(reconciled, { what: 'reg reconciled by operator-a' });

    await patchKc({ trackers: { replicas: 2 } });
    await cp.waitFor(() => replicas('statefulset', 'reg-tracker'), {
      what: 'reg-tracker scaled to 2',
      until: (n) => n === 2,
    });
    await cp.waitFor(reconciled, { what: 'reg reconciled at generation 2' });
    expect(isHolder(first, await holder())).toBe(true);
    expect(await leading(second)).toBe(0);
    // Not one write, not even to the Lease: a standby only reads it.
    expect(await writes(second)).toBe(0);
    expect(await second.metric('kraken_operator_reconciles_total')).toBe(0);
    expect(await writes(first)).toBeGreaterThan(0);
  });

  it('hands over within the lease duration when the leader is killed, and reconciles what changed meanwhile', async () => {
    await first.kill();
    const killedAt = Date.now();
    // Made while no one leads: the new leader's first list finds it.
    await patchKc({ origins: { replicas: 2 } });
    await cp.waitFor(() => leading(second), {
      what: 'operator-b leading',
      until: (v) => v === 1,
      intervalMs: 50,
      timeoutMs: 10_000,
    });
    // The lease runs out at most leaseDurationMs after the last renewal; then one retry period.
    expect(Date.now() - killedAt).toBeLessThan(LEASE.leaseDurationMs + 2 * LEASE.retryPeriodMs);
    expect(isHolder(second, await holder())).toBe(true);
    await cp.waitFor(() => replicas('statefulset', 'reg-origin'), {
      what: 'reg-origin scaled to 2 by operator-b',
      until: (n) => n === 2,
    });
    await cp.waitFor(reconciled, { what: 'reg reconciled at generation 3' });
    expect(await writes(second)).toBeGreaterThan(0);
  });

  it('releases the Lease on SIGTERM, so the next leads at once', async () => {
    const third = await start('operator-c');
    await cp.waitFor(() => third.metric('kraken_operator_leader'), {
      what: 'operator-c standing by',
      until: (v) => v === 0,
    });
    const stoppedAt = Date.now();
    const exitCode = await second.stop();
    await cp.waitFor(() => leading(third), {
      what: 'operator-c leading',
      until: (v) => v === 1,
      intervalMs: 50,
      timeoutMs: 10_000,
    });
    // Within a retry period or two, well before the released lease would have expired.
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE.leaseDurationMs);
    expect(isHolder(third, await holder())).toBe(true);
    // A clean shutdown: a pod stopped this way shows Completed, not Error.
    expect(exitCode).toBe(0);
  });
});
