/**
 * What `deploy/` installs besides the operator's own Deployment, applied with kubectl to a
 * test control plane: the CRDs, the operator's namespace, ServiceAccount and RBAC. The
 * operator process then runs with a token of that ServiceAccount, so every request it
 * makes is one its RBAC allows.
 */
import { join } from 'node:path';
import type { ControlPlane } from '../kube/index.js';

const ROOT = join(import.meta.dirname, '../../../..');

/** The namespace and ServiceAccount deploy/operator/10-rbac.yaml binds its roles to. */
export const OPERATOR_NAMESPACE = 'kraken-system';
export const OPERATOR_SERVICE_ACCOUNT = 'kraken-operator';

/** Applies deploy/crds and deploy/operator's RBAC; resolves with the ServiceAccount's kubeconfig. */
export async function installOperatorApi(cp: ControlPlane): Promise<string> {
  const files = ['deploy/crds', 'deploy/operator/00-namespace.yaml', 'deploy/operator/10-rbac.yaml'];
  const applied = await cp.kubectl(['apply', ...files.flatMap((file) => ['-f', join(ROOT, file)])]);
  if (applied.code !== 0) throw new Error(`kubectl apply of ${files.join(', ')}: ${applied.stderr}`);
  // A CRD serves its resources only once Established; an apply before that finds no kind.
  const established = await cp.kubectl([
    'wait',
    '--for=condition=Established',
    'crd/krakenclusters.kraken.dev',
    'crd/replicationrules.kraken.dev',
    '--timeout=30s',
  ]);
  if (established.code !== 0) throw new Error(`CRDs not Established: ${established.stderr}`);
  return cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

/** A resource's condition of that type, as `kubectl get -o json` shows it. */
export function conditionOf(
  resource: { status?: { conditions?: readonly Condition[] } } | undefined,
  type: string,
): Condition | undefined {
  return resource?.status?.conditions?.find((c) => c.type === type);
}
