/**
 * The phases of one KrakenCluster reconcile, in order: render the spec into objects
 * (nothing is applied when it is invalid), check that every Secret key they use
 * exists (nothing is applied when one is missing: pods would only crash-loop), apply
 * the objects by server-side apply in dependency order, and read the workloads back.
 * Each phase returns what the next needs or the Degradation that stops the reconcile.
 */
import { KRAKEN_CLUSTER_REASONS as REASONS } from '../api/v1alpha1/conditions.js';
import type { KrakenCluster } from '../api/v1alpha1/kraken-cluster-types.js';
import { InvalidSpecError } from '../errors.js';
import { renderCluster, type RenderedCluster } from '../render/cluster-render.js';
import { workloadName, type Component } from '../render/component-names.js';
import type { SecretReference } from '../render/secret-mounts.js';
import type { Informer } from '../runtime/informer.js';
import type { KubeClient } from '../runtime/kube-client.js';
import { builtinKinds, type KubeObject } from '../runtime/resource-kind.js';
import type { ComponentStates, Degradation } from './cluster-status.js';
import { workloadState } from './cluster-status.js';

export type PhaseResult<T> = { readonly ok: T } | { readonly degraded: Degradation };

export function renderPhase(
  cluster: KrakenCluster,
  options: { readonly operatorIdentity?: string },
): PhaseResult<RenderedCluster> {
  try {
    return { ok: renderCluster(cluster, options) };
  } catch (err) {
    if (err instanceof InvalidSpecError)
      return { degraded: { reason: REASONS.InvalidSpec, message: err.message } };
    throw err;
  }
}

/** Every missing Secret or key, by the spec field that names it. */
export async function secretsPhase(
  client: Pick<KubeClient, 'get'>,
  namespace: string,
  refs: readonly SecretReference[],
  signal: AbortSignal,
): Promise<PhaseResult<true>> {
  const secrets = new Map<string, KubeObject | undefined>();
  const missing: string[] = [];
  for (const ref of refs) {
    if (!secrets.has(ref.name))
      secrets.set(ref.name, await client.get(builtinKinds.Secret, namespace, ref.name, { signal }));
    const secret = secrets.get(ref.name) as { data?: Record<string, string> } | undefined;
    if (secret === undefined) missing.push(`${ref.field}: Secret "${ref.name}" not found in ${namespace}`);
    else if (secret.data?.[ref.key] === undefined)
      missing.push(`${ref.field}: Secret "${ref.name}" has no key "${ref.key}"`);
  }
  if (missing.length === 0) return { ok: true };
  // Several components mount one Secret: name each problem once.
  return { degraded: { reason: REASONS.SecretMissing, message: [...new Set(missing)].join('; ') } };
}

/** Applies every object in order; the first failure stops it (later kinds depend on earlier ones). */
export async function applyPhase(
  client: Pick<KubeClient, 'apply'>,
  objects: readonly KubeObject[],
  signal: AbortSignal,
): Promise<PhaseResult<number>> {
  let applied = 0;
  for (const object of objects) {
    try {
      if ((await client.apply(object, { signal })).applied) applied += 1;
    } catch (err) {
      if (signal.aborted) throw err;
      const what = `${object.kind}/${object.metadata?.name ?? ''}`;
      return { degraded: { reason: REASONS.ApplyFailed, message: `${what}: ${(err as Error).message}` } };
    }
  }
  return { ok: applied };
}

export interface WorkloadInformers {
  readonly statefulSets: Pick<Informer, 'get'>;
  readonly deployments: Pick<Informer, 'get'>;
  readonly daemonSets: Pick<Informer, 'get'>;
}

/** Each component's workload as the informers last saw it. */
export function workloadsPhase(cluster: KrakenCluster, informers: WorkloadInformers): ComponentStates {
  const { namespace } = cluster.metadata;
  const name = (component: Component) => workloadName(cluster.metadata, component);
  return {
    origin: workloadState(informers.statefulSets.get(namespace, name('origin'))),
    tracker: workloadState(informers.statefulSets.get(namespace, name('tracker'))),
    'build-index': workloadState(informers.statefulSets.get(namespace, name('build-index'))),
    proxy: workloadState(informers.deployments.get(namespace, name('proxy'))),
    agent: workloadState(informers.daemonSets.get(namespace, name('agent'))),
  };
}
