/**
 * A KrakenCluster's status from its workloads as the informers last saw them: ready
 * counts per component, and the three conditions. Ready means every component has its
 * desired pods ready; Progressing means some workload has not yet rolled out its
 * current template (its controller has not observed it, or pods of an older revision
 * remain); Degraded carries the reason the last reconcile could not apply the spec.
 */
import { CONDITION_TYPES, KRAKEN_CLUSTER_REASONS as REASONS } from '../api/v1alpha1/conditions.js';
import type { Condition } from '../api/v1alpha1/conditions.js';
import type {
  ComponentReadiness,
  KrakenCluster,
  KrakenClusterStatus,
} from '../api/v1alpha1/kraken-cluster-types.js';
import type { Component } from '../render/component-names.js';
import { setCondition } from '../runtime/conditions.js';
import type { KubeObject } from '../runtime/resource-kind.js';

/** The status fields of a StatefulSet, Deployment or DaemonSet that readiness needs. */
interface WorkloadStatus {
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly updatedReplicas?: number;
  readonly currentRevision?: string;
  readonly updateRevision?: string;
  readonly desiredNumberScheduled?: number;
  readonly numberReady?: number;
  readonly updatedNumberScheduled?: number;
}

export interface WorkloadState extends ComponentReadiness {
  /** The workload's current template is not fully rolled out. */
  readonly rollingOut: boolean;
}

/** Readiness of one workload; absent workloads have nothing ready. */
export function workloadState(workload: KubeObject | undefined): WorkloadState {
  if (workload === undefined) return { ready: 0, desired: 0, rollingOut: true };
  const spec = (workload as { spec?: { replicas?: number } }).spec;
  const status = ((workload as { status?: WorkloadStatus }).status ?? {}) as WorkloadStatus;
  const observed = (status.observedGeneration ?? 0) >= (workload.metadata?.generation ?? 0);
  if (workload.kind === 'DaemonSet') {
    const desired = status.desiredNumberScheduled ?? 0;
    const updated = status.updatedNumberScheduled ?? 0;
    return { ready: status.numberReady ?? 0, desired, rollingOut: !observed || updated < desired };
  }
  const desired = spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const stale =
    workload.kind === 'StatefulSet' &&
    status.updateRevision !== undefined &&
    status.currentRevision !== status.updateRevision;
  return {
    ready: status.readyReplicas ?? 0,
    desired,
    rollingOut: !observed || updated < desired || (status.replicas ?? 0) > desired || stale,
  };
}

export type ComponentStates = Readonly<Record<Component, WorkloadState>>;

const STATUS_FIELDS: Readonly<Record<Component, keyof KrakenClusterStatus>> = {
  origin: 'origins',
  tracker: 'trackers',
  'build-index': 'buildIndex',
  proxy: 'proxy',
  agent: 'agents',
};

/** Why the spec could not be applied (Degraded True), or undefined when it was. */
export interface Degradation {
  readonly reason: (typeof REASONS)[keyof typeof REASONS];
  readonly message: string;
}

export interface ClusterStatusInput {
  readonly cluster: Pick<KrakenCluster, 'metadata' | 'status'>;
  /** Undefined when the reconcile stopped before the workloads (an invalid spec). */
  readonly components: ComponentStates | undefined;
  readonly degraded: Degradation | undefined;
  readonly now: Date;
}

export function clusterStatus(input: ClusterStatusInput): KrakenClusterStatus {
  const { cluster, components, degraded, now } = input;
  const generation = cluster.metadata.generation;
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  let conditions: Condition[] = [...(cluster.status?.conditions ?? [])];
  const set = (type: string, status: 'True' | 'False', reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status, reason, message, ...observed }, now);
  };

  const counts: Partial<Record<keyof KrakenClusterStatus, ComponentReadiness>> = {};
  if (components !== undefined) {
    for (const [component, state] of Object.entries(components) as [Component, WorkloadState][])
      counts[STATUS_FIELDS[component]] = { ready: state.ready, desired: state.desired };
    const notReady = (Object.entries(components) as [Component, WorkloadState][])
      .filter(([, s]) => s.ready < s.desired || (s.desired === 0 && s.rollingOut))
      .map(([c, s]) => `${c} ${s.ready}/${s.desired}`);
    if (notReady.length === 0) set(CONDITION_TYPES.Ready, 'True', REASONS.AllComponentsReady, '');
    else set(CONDITION_TYPES.Ready, 'False', REASONS.ComponentsNotReady, `not ready: ${notReady.join(', ')}`);
    const rolling = (Object.entries(components) as [Component, WorkloadState][])
      .filter(([, s]) => s.rollingOut)
      .map(([c]) => c);
    if (rolling.length > 0)
      set(CONDITION_TYPES.Progressing, 'True', REASONS.RollingOut, `rolling out: ${rolling.join(', ')}`);
    else set(CONDITION_TYPES.Progressing, 'False', REASONS.RolloutComplete, '');
  } else {
    // Nothing was applied for this generation: the workloads say nothing about it.
    set(
      CONDITION_TYPES.Ready,
      'False',
      degraded?.reason ?? REASONS.ComponentsNotReady,
      degraded?.message ?? '',
    );
    set(CONDITION_TYPES.Progressing, 'False', degraded?.reason ?? REASONS.RolloutComplete, '');
  }
  if (degraded !== undefined) set(CONDITION_TYPES.Degraded, 'True', degraded.reason, degraded.message);
  else set(CONDITION_TYPES.Degraded, 'False', REASONS.AsExpected, '');

  // The spec of this generation was observed, applied or found invalid; the conditions say which.
  return { ...observed, conditions, ...counts } as KrakenClusterStatus;
}
