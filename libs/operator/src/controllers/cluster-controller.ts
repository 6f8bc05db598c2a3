/**
 * The KrakenCluster controller. Level-based: each reconcile renders the whole cluster
 * from its spec, applies what differs from the informers' view (nothing when nothing
 * does), and patches the status once at the end, only when it changed. Events on the
 * objects it owns (a hand edit, a deletion, a pod turning ready) requeue their
 * cluster. No finalizer: every object it creates carries an owner reference, so the
 * garbage collector removes them with the cluster, and it keeps no state elsewhere.
 */
import type { Clock } from '@kraken/foundation';
import type { Logger } from '@kraken/service-kit';
import type { KrakenCluster } from '../api/v1alpha1/kraken-cluster-types.js';
import { MANAGED_BY, LABELS } from '../render/component-names.js';
import { createController, ownerKeys, type Controller } from '../runtime/controller.js';
import type { KubeClient } from '../runtime/kube-client.js';
import { builtinKinds, keyOf, parseKey, type KubeObject } from '../runtime/resource-kind.js';
import type { WorkQueueConfig } from '../runtime/runtime-config.js';
import type { RuntimeMetrics } from '../runtime/runtime-metrics.js';
import { applyPhase, renderPhase, secretsPhase, workloadsPhase } from './cluster-phases.js';
import { clusterStatus, type ComponentStates, type Degradation } from './cluster-status.js';
import { krakenClusterKind } from './kinds.js';

export interface ClusterControllerOptions {
  /** Wall-clock time for conditions' lastTransitionTime; `clock` is monotonic. */
  readonly wallClock?: () => Date;
  readonly client: KubeClient;
  readonly metrics: RuntimeMetrics;
  readonly queue: WorkQueueConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The one namespace watched; every namespace when undefined. */
  readonly namespace?: string;
  /** Identity of the operator's client certificate, allowed to write replication rules. */
  readonly operatorIdentity?: string;
  /** How soon a cluster stopped by a missing Secret looks again (ms); Secrets are read, not watched. */
  readonly secretRetryMs?: number;
  readonly signal?: AbortSignal;
}

const OWNED_KINDS = [
  builtinKinds.ConfigMap,
  builtinKinds.Service,
  builtinKinds.PodDisruptionBudget,
  builtinKinds.StatefulSet,
  builtinKinds.Deployment,
  builtinKinds.DaemonSet,
];

export function createClusterController(options: ClusterControllerOptions): Controller {
  const { client, clock, namespace } = options;
  const scope = namespace === undefined ? {} : { namespace };
  // Owned objects are watched by the operator's label only: a cluster's namespace may
  // hold thousands of ConfigMaps and Services that are none of its business.
  const owned = { ...scope, labelSelector: `${LABELS.managedBy}=${MANAGED_BY}` };
  const clusters = client.informer(krakenClusterKind, scope);
  const informers = {
    statefulSets: client.informer(builtinKinds.StatefulSet, owned),
    deployments: client.informer(builtinKinds.Deployment, owned),
    daemonSets: client.informer(builtinKinds.DaemonSet, owned),
  };

  const reconcile = async (key: string, signal: AbortSignal) => {
    const { namespace: ns, name } = parseKey(key);
    const live = clusters.get(ns, name);
    if (live === undefined || live.metadata?.deletionTimestamp !== undefined) return;
    // The API types describe what the operator reads of the resource; the spec itself
    // is validated by the render phase.
    const cluster = live as unknown as KrakenCluster;

    let degraded: Degradation | undefined;
    let components: ComponentStates | undefined;
    let requeueAfterMs: number | undefined;
    const rendered = renderPhase(
      cluster,
      options.operatorIdentity === undefined ? {} : { operatorIdentity: options.operatorIdentity },
    );
    if ('degraded' in rendered) degraded = rendered.degraded;
    else {
      const secrets = await secretsPhase(client, ns, rendered.ok.secretRefs, signal);
      if ('degraded' in secrets) {
        degraded = secrets.degraded;
        requeueAfterMs = options.secretRetryMs ?? 15_000;
      } else {
        const applied = await applyPhase(
          client,
          rendered.ok.objects as unknown as readonly KubeObject[],
          signal,
        );
        if ('degraded' in applied) degraded = applied.degraded;
        else if (applied.ok > 0)
          options.logger.info({ cluster: key, applied: applied.ok }, 'applied objects');
        components = workloadsPhase(cluster, informers);
      }
    }
    const status = clusterStatus({
      cluster,
      components,
      degraded,
      now: (options.wallClock ?? (() => new Date()))(),
    });
    await client.patchStatus(live, status, { signal });
    // A failed apply is retried with the queue's backoff; the status already says why.
    if (degraded?.reason === 'ApplyFailed') throw new Error(degraded.message);
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  };

  return createController({
    name: 'krakencluster',
    client,
    metrics: options.metrics,
    queue: options.queue,
    clock,
    logger: options.logger,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    watches: [
      { kind: krakenClusterKind, ...scope },
      ...OWNED_KINDS.map((kind) => ({ kind, ...owned, keys: ownerKeys(krakenClusterKind) })),
    ],
    reconcile,
  });
}

/** The key of a cluster, for tests and for controllers that point at one. */
export function clusterKey(cluster: Pick<KrakenCluster, 'metadata'>): string {
  return keyOf(cluster.metadata.namespace, cluster.metadata.name);
}
