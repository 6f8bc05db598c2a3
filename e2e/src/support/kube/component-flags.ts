/**
 * The command lines of etcd, kube-apiserver, kube-controller-manager and kube-scheduler for a
 * single-member test cluster on 127.0.0.1: the flags that make them start in seconds and keep
 * every file and port of theirs inside one run's directory.
 */
import type { Pki } from './pki.js';

export interface ClusterLayout {
  readonly pki: Pki;
  /** The admin kubeconfig, also the components' identity. */
  readonly kubeconfig: string;
  readonly etcd: { readonly dataDir: string; readonly clientPort: number; readonly peerPort: number };
  readonly apiserver: { readonly port: number; readonly certDir: string };
  readonly controllerManagerPort: number;
  readonly schedulerPort: number;
}

/** The range of Service cluster IPs; its first address is the `kubernetes` Service's. */
export const SERVICE_CIDR = '10.0.0.0/24';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export function etcdUrl(layout: ClusterLayout): string {
  return `http://127.0.0.1:${layout.etcd.clientPort}`;
}

export function etcdArgs(layout: ClusterLayout): string[] {
  const client = etcdUrl(layout);
  const peer = `http://127.0.0.1:${layout.etcd.peerPort}`;
  return [
    '--name=e2e',
    `--data-dir=${layout.etcd.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=e2e=${peer}`,
    // A test cluster's data dies with it: no fsync, which is most of etcd's write latency.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function apiserverArgs(layout: ClusterLayout): string[] {
  const { pki } = layout;
  return [
    `--etcd-servers=${etcdUrl(layout)}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // The default reconciler refuses a loopback advertise address; with none, the `kubernetes`
    // Service simply has no endpoints, which nothing here needs.
    '--endpoint-reconciler-type=none',
    `--secure-port=${layout.apiserver.port}`,
    `--tls-cert-file=${pki.serving.cert}`,
    `--tls-private-key-file=${pki.serving.key}`,
    // Unused with the files above, but the default is a machine-wide /var/run/kubernetes.
    `--cert-dir=${layout.apiserver.certDir}`,
    `--client-ca-file=${pki.ca.cert}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${pki.serviceAccount.publicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=RBAC',
    // DaemonSets of node agents may ask for privileged containers; admission allows them.
    '--allow-privileged=true',
    '--profiling=false',
  ];
}

/** What the controller-manager and the scheduler share: identity, serving, no leader election. */
function componentArgs(layout: ClusterLayout, port: number): string[] {
  const { pki } = layout;
  return [
    `--kubeconfig=${layout.kubeconfig}`,
    `--authentication-kubeconfig=${layout.kubeconfig}`,
    `--authorization-kubeconfig=${layout.kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    // Our CA's certificate rather than a self-signed one written to --cert-dir.
    `--tls-cert-file=${pki.serving.cert}`,
    `--tls-private-key-file=${pki.serving.key}`,
    // One instance: waiting for a lease would only delay the start.
    '--leader-elect=false',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(layout: ClusterLayout): string[] {
  const { pki } = layout;
  return [
    ...componentArgs(layout, layout.controllerManagerPort),
    // Every on-by-default controller: garbage collector, workloads, namespaces, service
    // accounts and their token Secrets, node lifecycle.
    '--controllers=*',
    `--service-account-private-key-file=${pki.serviceAccount.privateKey}`,
    `--root-ca-file=${pki.ca.cert}`,
    `--cluster-signing-cert-file=${pki.ca.cert}`,
    `--cluster-signing-key-file=${pki.ca.key}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
  ];
}

export function schedulerArgs(layout: ClusterLayout): string[] {
  return componentArgs(layout, layout.schedulerPort);
}
