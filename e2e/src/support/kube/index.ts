/**
 * A real Kubernetes control plane for e2e tests (etcd, kube-apiserver, controller-manager,
 * scheduler, and kwok's fake nodes), driven with kubectl:
 *
 *   const cp = await startControlPlane({ nodes: 3 });
 *   await cp.apply(yaml);
 *   await cp.waitFor(() => cp.kubectlJson<StatefulSet>(['get', 'sts', 'web']), {
 *     what: 'StatefulSet web ready',
 *     until: (sts) => sts.status.readyReplicas === 3,
 *   });
 *   const asOperator = await cp.serviceAccountKubeconfig('kraken', 'operator');
 *   await cp.kubectl(['get', 'pods'], { kubeconfig: asOperator }); // { stdout, stderr, code }
 *   await cp.close();
 */
export { startControlPlane } from './control-plane.js';
export type { ComponentName, ControlPlane, ControlPlaneOptions, StartupTimings } from './control-plane.js';
export { INSTALL_COMMAND } from './binaries.js';
export { FAKE_NODE_ANNOTATION } from './kwok.js';
export type { KubectlOptions, KubectlResult } from './kubectl.js';
export type { ClientIdentity } from './pki.js';
export { waitFor } from './wait.js';
export type { WaitOptions } from './wait.js';
