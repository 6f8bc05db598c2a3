/**
 * A ReplicationRule between two clusters running as processes (devclusters a and b),
 * reconciled by the operator process on a real control plane. The KrakenClusters `src`
 * and `dst` exist in the control plane (their pods are kwok's), and the operator reaches
 * a's real build-index through `serviceAddresses`, as an operator outside the cluster
 * would through a tunnel. The rule appears on a's build-index as `rr-<name>`; an image
 * pushed to a with skopeo is pulled from b's agent; the rule's status follows the
 * build-index (lag and failures while b's build-index is down, Ready with lag 0 once it
 * is back); a destination named as a KrakenCluster becomes its in-cluster addresses; and
 * deleting the resource removes the rule first (finalizer), then the resource goes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { clusterEndpoints, type KrakenCluster } from '@kraken/operator';
import { startClusters, type Clusters } from './support/cluster.js';
import { startControlPlane, type ControlPlane } from './support/kube/index.js';
import { conditionOf, installOperatorApi, type Condition } from './support/operator/operator-install.js';
import { startOperator, type OperatorProcess } from './support/operator/operator-process.js';
import { pullImage, pushGeneratedImage, pushSmallImage } from './support/registry-images.js';
import { listRules, tagOn } from './support/replication.js';

const NS = 'replication';
const FINALIZER = 'kraken.dev/replication-rule';

interface RuleJson {
  metadata: { generation: number; finalizers?: string[] };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    pending: number;
    inFlight: number;
    failed: number;
    lagSeconds: number;
    lastError?: { message: string; repository: string; tag: string };
    destinationClusterId?: string;
  };
}
interface RuleView {
  name: string;
  source: string;
  repositories: string;
  deletes: boolean;
  destination: Record<string, unknown>;
}

let work: string;
let cp: ControlPlane;
let clusters: Clusters;
let operator: OperatorProcess;
let aProxy: string;
let aBuildIndex: string;
let bBuildIndex: string;
let bAgent: string;

function krakenCluster(name: string): KrakenCluster {
  return {
    apiVersion: 'kraken.dev/v1alpha1',
    kind: 'KrakenCluster',
    metadata: { name, namespace: NS },
    spec: {
      image: 'registry.example.com/kraken:0.1.0',
      origins: { replicas: 1, ringReplicas: 1, volume: { size: '1Gi' }, cacheSize: '512Mi' },
      trackers: { replicas: 1 },
      buildIndex: { replicas: 1, volume: { size: '1Gi' } },
    },
  };
}

function ruleYaml(name: string, spec: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'kraken.dev/v1alpha1',
    kind: 'ReplicationRule',
    metadata: { name, namespace: NS },
    spec: { cluster: 'src', ...spec },
  });
}

const getRule = (name: string) => cp.kubectlJson<RuleJson>(['-n', NS, 'get', 'replicationrule', name]);
/** The operator's rules on a's build-index, by name. */
async function rulesOnA(): Promise<Map<string, RuleView>> {
  const answer = await listRules(aBuildIndex);
  if (answer.status !== 200) throw new Error(`GET /v1/replication/rules: ${answer.status}`);
  return new Map((answer.body as { rules: RuleView[] }).rules.map((rule) => [rule.name, rule]));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-operator-replication-'));
  [cp, clusters] = await Promise.all([
    startControlPlane({ nodes: 1 }),
    startClusters({
      dir: join(work, 'clusters'),
      clusters: [
        {
          id: 'a',
          agents: 0,
          // No rules of its own: the operator's come through the API. Retries from 250 ms
          // up to 2 s, so an outage of b is over for the rule soon after b is back.
          rules: [],
          overrides: {
            buildIndex: {
              replication: { backfillIntervalSeconds: 0, retry: { initialMs: 250, maxMs: 2_000 } },
            },
          },
        },
        { id: 'b', agents: 1, rules: [] },
      ],
    }),
  ]);
  const a = clusters.cluster('a').endpoints;
  const b = clusters.cluster('b').endpoints;
  [aProxy, aBuildIndex] = [a.proxy[0]!, a['build-index'][0]!];
  [bBuildIndex, bAgent] = [b['build-index'][0]!, b.agent[0]!];

  const kubeconfig = await installOperatorApi(cp);
  await cp.kubectl(['create', 'namespace', NS]);
  const src = krakenCluster('src');
  await cp.apply([src, krakenCluster('dst')].map((kc) => stringify(kc)).join('---\n'));
  operator = await startOperator({
    name: 'operator',
    dir: cp.dir,
    kubeconfig,
    config: {
      // Out of cluster: src's build-index pod is a's build-index process.
      serviceAddresses: { [clusterEndpoints(src).buildIndex[0]!]: new URL(aBuildIndex).host },
      replication: { statusIntervalMs: 500 },
      leaderElection: { enabled: false },
      workQueue: { backoffMaxMs: 2_000 },
    },
  });
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  await Promise.all([cp?.close(), clusters?.stop()]);
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

describe('a ReplicationRule reconciled onto a running build-index', () => {
  it('puts the rule on the source build-index, and replicates a push to the destination', async () => {
    await cp.apply(ruleYaml('team', { repositories: 'team/.*', destination: { discover: bBuildIndex } }));
    const onA = await cp.waitFor(rulesOnA, {
      what: 'rule rr-team on a',
      until: (rules) => rules.has('rr-team'),
    });
    expect(onA.get('rr-team')).toMatchObject({
      source: 'api',
      repositories: 'team/.*',
      deletes: false,
      destination: { discover: bBuildIndex },
    });
    expect((await getRule('team')).metadata.finalizers).toContain(FINALIZER);

    const pushed = await pushGeneratedImage({
      proxy: aProxy,
      dir: join(work, 'push'),
      repo: 'team/app',
      tag: 'v1',
      layerSizes: [512 * 1024, 4096],
    });
    await cp.waitFor(() => tagOn(bBuildIndex, 'team/app', 'v1'), {
      what: 'team/app:v1 on b',
      until: (digest) => digest === pushed.manifest,
    });
    const pulled = await pullImage({
      registry: bAgent,
      repo: 'team/app',
      tag: 'v1',
      dir: join(work, 'pull'),
    });
    expect(pulled.manifest).toBe(pushed.manifest);
    expect(pulled.digests.sort()).toEqual(pushed.blobs.map((blob) => blob.digest).sort());

    const rule = await cp.waitFor(() => getRule('team'), {
      what: 'ReplicationRule team Ready, nothing left to replicate',
      until: (r) =>
        conditionOf(r, 'Ready')?.status === 'True' &&
        r.status?.pending === 0 &&
        r.status.inFlight === 0 &&
        r.status.observedGeneration === r.metadata.generation,
    });
    expect(rule.status).toMatchObject({ failed: 0, lagSeconds: 0, destinationClusterId: 'b' });
    expect(conditionOf(rule, 'Degraded')).toMatchObject({ status: 'False' });
    expect(conditionOf(rule, 'Progressing')).toMatchObject({ status: 'False', reason: 'UpToDate' });
    const table = await cp.kubectl(['-n', NS, 'get', 'rr', 'team']);
    expect(table.stdout).toMatch(/^NAME\s+CLUSTER\s+READY\s+LAG\s+FAILED/m);
    expect(table.stdout).toMatch(/^team\s+src\s+True\s+0\s+0/m);
  });

  it('shows lag and failures while the destination is down, and lag back to 0 once it is back', async () => {
    const b = clusters.cluster('b');
    await b.component('build-index-0')!.stop('SIGKILL');
    const pushed = await pushSmallImage(aProxy, 'team/app', 'v2');
    const failing = await cp.waitFor(() => getRule('team'), {
      what: 'ReplicationRule team reporting the failing change',
      until: (r) => (r.status?.failed ?? 0) > 0 && conditionOf(r, 'Degraded')?.status === 'True',
    });
    expect(failing.status?.lagSeconds).toBeGreaterThan(0);
    expect(failing.status?.lastError).toMatchObject({ repository: 'team/app', tag: 'v2' });
    expect(conditionOf(failing, 'Degraded')).toMatchObject({ reason: 'ReplicationFailing' });
    expect(conditionOf(failing, 'Ready')).toMatchObject({ status: 'False', reason: 'ReplicationFailing' });

    await b.restart('build-index-0');
    await cp.waitFor(() => tagOn(bBuildIndex, 'team/app', 'v2'), {
      what: 'team/app:v2 on b',
      until: (digest) => digest === pushed.manifest,
    });
    const recovered = await cp.waitFor(() => getRule('team'), {
      what: 'ReplicationRule team Ready again',
      until: (r) =>
        conditionOf(r, 'Ready')?.status === 'True' && r.status?.failed === 0 && r.status.pending === 0,
    });
    expect(recovered.status?.lagSeconds).toBe(0);
    expect(conditionOf(recovered, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('follows a change of the rule, and fills in a KrakenCluster destination', async () => {
    await cp.kubectl([
      '-n',
      NS,
      'patch',
      'rr',
      'team',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { deletes: true } }),
    ]);
    await cp.waitFor(rulesOnA, {
      what: 'rr-team on a with deletes',
      until: (rules) => rules.get('rr-team')?.deletes === true,
    });
    await cp.waitFor(() => getRule('team'), {
      what: 'observedGeneration 2',
      until: (r) => r.status?.observedGeneration === 2,
    });

    // dst is only in the control plane: its in-cluster addresses go into the rule.
    await cp.apply(
      ruleYaml('to-dst', { repositories: 'none/.*', destination: { cluster: { name: 'dst' } } }),
    );
    const rules = await cp.waitFor(rulesOnA, {
      what: 'rule rr-to-dst on a',
      until: (all) => all.has('rr-to-dst'),
    });
    const dst = clusterEndpoints(krakenCluster('dst'));
    expect(rules.get('rr-to-dst')?.destination).toEqual({
      buildIndex: [`http://${dst.buildIndex[0]}`],
      origins: { nodes: [`http://${dst.origins[0]}`], replicas: 1 },
    });
  });

  it('removes the rule from the build-index before the resource goes', async () => {
    const deleted = await cp.kubectl(['-n', NS, 'delete', 'rr', 'team', 'to-dst', '--timeout=30s']);
    expect(deleted.code, deleted.stderr).toBe(0);
    // kubectl returns once the resources are gone, which the finalizer holds up until the
    // rules are off the build-index.
    const rules = await rulesOnA();
    expect([...rules.keys()]).toEqual([]);
    const left = await cp.kubectl(['-n', NS, 'get', 'rr', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
  });
});
