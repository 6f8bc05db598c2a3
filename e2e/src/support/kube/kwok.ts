/**
 * kwok in place of kubelets: its configuration, and the fake Node objects it manages. kwok
 * takes the nodes that carry the `kwok.x-k8s.io/node: fake` annotation, renews their leases
 * and drives their pods through the Stages in `stages/` (copied from the kwok module): a node
 * turns Ready, a scheduled pod Running and Ready, a Job's pod Succeeded, a deleted pod gone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { arch } from 'node:os';

export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
const FAKE_NODE_SELECTOR = `${FAKE_NODE_ANNOTATION}=fake`;

const STAGES = [
  'node-initialize',
  'node-heartbeat-with-lease',
  'pod-ready',
  'pod-complete',
  'pod-delete',
] as const;

/** Pod addresses kwok hands out: apart from the service range (10.0.0.0/24) and the nodes'. */
const POD_CIDR = '10.244.0.0/16';
/**
 * As a kubelet's default. The controller-manager marks a node whose lease is older than its
 * grace period (50 s) NotReady and evicts its pods, so kwok must keep renewing it.
 */
const NODE_LEASE_SECONDS = 40;

/**
 * Writes kwok's --config: the KwokConfiguration then the Stages, one multi-document YAML file
 * (JSON documents are YAML).
 */
export async function writeKwokConfig(path: string): Promise<void> {
  const configuration = {
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokConfiguration',
    options: {
      cidr: POD_CIDR,
      // kwok refuses to start unless these are set.
      podPlayStageParallelism: 8,
      nodePlayStageParallelism: 4,
      nodeLeaseParallelism: 4,
      podsOnNodeSyncParallelism: 2,
      nodeLeaseDurationSeconds: NODE_LEASE_SECONDS,
    },
  };
  const stages = await Promise.all(
    STAGES.map((name) => readFile(new URL(`./stages/${name}.yaml`, import.meta.url), 'utf8')),
  );
  await writeFile(path, [JSON.stringify(configuration), ...stages].join('\n---\n'));
}

export function kwokArgs(options: { kubeconfig: string; config: string }): string[] {
  return [
    '--kubeconfig',
    options.kubeconfig,
    '--config',
    options.config,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${FAKE_NODE_SELECTOR}`,
    `--node-lease-duration-seconds=${NODE_LEASE_SECONDS}`,
  ];
}

export function fakeNodeName(index: number): string {
  return `kwok-node-${index}`;
}

/**
 * A Node as a kubelet registers it: created with its status (the apiserver keeps a Node's
 * status on create), so that capacity and addresses are there before kwok first looks.
 * Room for any test's pods, and no taints of its own.
 */
export function fakeNode(index: number): object {
  const name = fakeNodeName(index);
  const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
        type: 'kwok',
      },
    },
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      // Distinct per node: pods with hostNetwork take their node's address.
      addresses: [
        { type: 'InternalIP', address: `10.255.0.${index + 1}` },
        { type: 'Hostname', address: name },
      ],
    },
  };
}
