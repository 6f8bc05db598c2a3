/**
 * The metadata every rendered object carries: the cluster's namespace, the
 * app.kubernetes.io labels, and an owner reference to the KrakenCluster as its
 * controller, so that deleting the cluster deletes what it owns (foreground deletion
 * waits for them: blockOwnerDeletion).
 */
import type {
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1ObjectMeta,
  V1OwnerReference,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { KRAKEN_API_VERSION, KRAKEN_CLUSTER_KIND } from '../api/v1alpha1/group-version.js';
import { componentLabels, type ClusterRef, type Component } from './component-names.js';

/** Metadata with what every rendered object has filled. */
export type RenderedMeta = V1ObjectMeta & {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: V1OwnerReference[];
};

type Rendered<T, K extends string> = Omit<T, 'apiVersion' | 'kind' | 'metadata'> & {
  apiVersion: string;
  kind: K;
  metadata: RenderedMeta;
};

export type RenderedConfigMap = Rendered<V1ConfigMap, 'ConfigMap'>;
export type RenderedService = Rendered<V1Service, 'Service'>;
export type RenderedStatefulSet = Rendered<V1StatefulSet, 'StatefulSet'>;
export type RenderedDeployment = Rendered<V1Deployment, 'Deployment'>;
export type RenderedDaemonSet = Rendered<V1DaemonSet, 'DaemonSet'>;
export type RenderedPodDisruptionBudget = Rendered<V1PodDisruptionBudget, 'PodDisruptionBudget'>;

/** Any object renderCluster returns, in the shape of the Kubernetes API. */
export type RenderedObject =
  | RenderedConfigMap
  | RenderedService
  | RenderedStatefulSet
  | RenderedDeployment
  | RenderedDaemonSet
  | RenderedPodDisruptionBudget;

/** The KrakenCluster as owner: its name, namespace and uid. */
export interface Owner extends ClusterRef {
  readonly uid: string;
}

export function ownerReference(owner: Owner): V1OwnerReference {
  return {
    apiVersion: KRAKEN_API_VERSION,
    kind: KRAKEN_CLUSTER_KIND,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function objectMeta(
  owner: Owner,
  component: Component,
  name: string,
  annotations?: Record<string, string>,
): RenderedMeta {
  return {
    name,
    namespace: owner.namespace,
    labels: componentLabels(owner, component),
    ...(annotations === undefined ? {} : { annotations }),
    ownerReferences: [ownerReference(owner)],
  };
}
