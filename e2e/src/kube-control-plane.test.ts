/**
 * The control-plane harness the operator's tests stand on (support/kube): a real apiserver,
 * controller-manager and scheduler on etcd, with kwok's fake nodes in place of kubelets.
 * Workloads the operator will create (a StatefulSet behind a headless Service, a hostNetwork
 * DaemonSet at node-critical priority) turn Ready; the garbage collector follows owner
 * references; RBAC holds a service account to its RoleBinding; close() leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from './support/kube/index.js';

let cp: ControlPlane;

beforeAll(async () => {
  cp = await startControlPlane({ nodes: 3 });
}, 120_000);

afterAll(async () => {
  await cp?.close();
});

interface Named {
  metadata: { name: string; uid: string };
}
interface PodList {
  items: (Named & {
    spec: { nodeName?: string };
    status: { podIP?: string; conditions?: { type: string; status: string }[] };
  })[];
}
interface NodeList {
  items: (Named & { status: { addresses: { type: string; address: string }[] } })[];
}

const listPods = (selector: string) => cp.kubectlJson<PodList>(['get', 'pods', '-l', selector]);
/** A probe of an object's status, for waitFor. */
const statusOf =
  <S>(kind: string, name: string) =>
  async (): Promise<S> =>
    (await cp.kubectlJson<{ status: S }>(['get', kind, name])).status;

describe('a control plane with kwok nodes', () => {
  it('runs Kubernetes v1.37.2, client and server', async () => {
    const version = await cp.kubectlJson<{
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    }>(['version']);
    expect(version.clientVersion.gitVersion).toBe('v1.37.2');
    expect(version.serverVersion.gitVersion).toBe('v1.37.2');
  });

  it('runs a StatefulSet behind a headless Service and a hostNetwork DaemonSet to Ready', async () => {
    await cp.apply(`
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: registry.invalid/web:v1 }]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: node-agent }
spec:
  selector: { matchLabels: { app: node-agent } }
  template:
    metadata: { labels: { app: node-agent } }
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      containers:
        - name: agent
          image: registry.invalid/agent:v1
          ports: [{ containerPort: 16000, hostPort: 16000 }]
`);

    await cp.waitFor(statusOf<{ readyReplicas?: number }>('statefulset', 'web'), {
      what: 'StatefulSet web to have 3 ready replicas',
      until: (status) => status.readyReplicas === 3,
    });
    await cp.waitFor(
      statusOf<{ desiredNumberScheduled?: number; numberReady?: number }>('daemonset', 'node-agent'),
      {
        what: 'DaemonSet node-agent ready on the 3 nodes',
        until: (status) => status.desiredNumberScheduled === 3 && status.numberReady === 3,
      },
    );

    // One agent per node, on the node's own address.
    const nodes = await cp.kubectlJson<NodeList>(['get', 'nodes']);
    const nodeIp = new Map(
      nodes.items.map((n) => [
        n.metadata.name,
        n.status.addresses.find((a) => a.type === 'InternalIP')?.address,
      ]),
    );
    const agents = (await listPods('app=node-agent')).items;
    expect(agents.map((p) => p.spec.nodeName).sort()).toEqual([...cp.nodeNames].sort());
    for (const pod of agents) expect(pod.status.podIP).toBe(nodeIp.get(pod.spec.nodeName ?? ''));
    const web = (await listPods('app=web')).items;
    expect(web.map((p) => p.metadata.name).sort()).toEqual(['web-0', 'web-1', 'web-2']);
  });

  it('garbage-collects a Deployment, its ReplicaSet and pods once their owner is deleted', async () => {
    // A ConfigMap stands in for the operator's custom resource that owns what it creates.
    await cp.apply('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owner"}}');
    const owner = await cp.kubectlJson<Named>(['get', 'configmap', 'owner']);
    await cp.apply(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: owned
  labels: { app: owned }
  ownerReferences:
    - { apiVersion: v1, kind: ConfigMap, name: owner, uid: ${owner.metadata.uid} }
spec:
  replicas: 2
  selector: { matchLabels: { app: owned } }
  template:
    metadata: { labels: { app: owned } }
    spec:
      containers: [{ name: app, image: registry.invalid/app:v1 }]
`);
    await cp.waitFor(statusOf<{ availableReplicas?: number }>('deployment', 'owned'), {
      what: 'Deployment owned to have 2 available replicas',
      until: (status) => status.availableReplicas === 2,
    });

    const deleted = await cp.kubectl(['delete', 'configmap', 'owner']);
    expect(deleted.code, deleted.stderr).toBe(0);

    await cp.waitFor(
      async () => {
        const left = await cp.kubectl([
          'get',
          'deployments,replicasets,pods',
          '-l',
          'app=owned',
          '-o',
          'name',
        ]);
        return left.code === 0 ? left.stdout.split('\n').filter(Boolean) : [left.stderr];
      },
      {
        what: 'the garbage collector to delete the Deployment, its ReplicaSet and pods',
        until: (names) => names.length === 0,
      },
    );
  });

  it('refuses a service account without a RoleBinding and allows it with one', async () => {
    await cp.apply(`
apiVersion: v1
kind: Namespace
metadata: { name: rbac }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: operator, namespace: rbac }
`);
    const kubeconfig = await cp.serviceAccountKubeconfig('rbac', 'operator');

    const refused = await cp.kubectl(['get', 'configmaps'], { kubeconfig });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /configmaps is forbidden: User "system:serviceaccount:rbac:operator" cannot list resource "configmaps"/,
    );

    await cp.apply(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: configmap-reader, namespace: rbac }
rules:
  - { apiGroups: [''], resources: [configmaps], verbs: [get, list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: operator-reads-configmaps, namespace: rbac }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader }
subjects:
  - { kind: ServiceAccount, name: operator, namespace: rbac }
`);
    // The authorizer learns of the binding through a watch: shortly, not at once.
    const allowed = await cp.waitFor(() => cp.kubectl(['get', 'configmaps', '-o', 'name'], { kubeconfig }), {
      what: 'the RoleBinding to let the service account list configmaps',
      until: (result) => result.code === 0,
    });
    expect(allowed.stdout).toContain('configmap/kube-root-ca.crt');

    // Only in its own namespace, and only reads.
    expect((await cp.kubectl(['get', 'configmaps', '-n', 'default'], { kubeconfig })).code).toBe(1);
    expect(
      (await cp.kubectl(['create', 'configmap', 'x', '--from-literal=a=b'], { kubeconfig })).stderr,
    ).toMatch(/forbidden/);

    // A client certificate with the same identity gets the same answers.
    const asCertificate = await cp.userKubeconfig({
      user: 'system:serviceaccount:rbac:operator',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:rbac'],
    });
    const canI = (verb: string) =>
      cp.kubectl(['auth', 'can-i', verb, 'configmaps', '-n', 'rbac'], { kubeconfig: asCertificate });
    expect((await canI('list')).stdout.trim()).toBe('yes');
    expect((await canI('create')).stdout.trim()).toBe('no');
  });

  it('close() kills every process and removes the temp directory', async () => {
    const pids = Object.values(cp.pids);
    expect(pids.every(isRunning)).toBe(true);

    await cp.close();
    await cp.close();

    expect(pids.filter(isRunning)).toEqual([]);
    expect(existsSync(cp.dir)).toBe(false);
    expect(await processesMentioning(cp.dir)).toEqual([]);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names `path`: every component's does (its flags point there). */
async function processesMentioning(path: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(path)) found.push(`${entry}: ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}
