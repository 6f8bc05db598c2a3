/**
 * What the renderer names after a KrakenCluster: each component's objects, its
 * labels, its default ports (ARCHITECTURE.md) and the in-cluster address of every ring
 * member.
 *
 * Ring members are the StatefulSet pods' stable DNS names,
 * `<cluster>-origin-<i>.<cluster>-origin-headless.<ns>.svc:15002`, listed statically in
 * every config. Rendezvous hashing keys blobs by member id, so the ids must outlive
 * pods: a restarted pod comes back under the same name (and volume), owns the same
 * blobs, and no other member sees a change; pod IPs would reshuffle ownership on every
 * restart. The headless Services publish not-ready addresses, so members resolve
 * each other while starting.
 */

export type Component = 'origin' | 'tracker' | 'build-index' | 'proxy' | 'agent';
export type RingComponent = 'origin' | 'tracker' | 'build-index';

/** Default ports: HTTP of each component, P2P of origins and agents. */
export const PORTS = {
  proxy: 15000,
  origin: 15002,
  originP2p: 15001,
  tracker: 15003,
  buildIndex: 15004,
  agent: 16000,
  agentP2p: 16001,
  operator: 15010,
} as const;

export const RING_PORTS: Readonly<Record<RingComponent, number>> = {
  origin: PORTS.origin,
  tracker: PORTS.tracker,
  'build-index': PORTS.buildIndex,
};

/** The cluster's identity as the renderer needs it. */
export interface ClusterRef {
  readonly name: string;
  readonly namespace: string;
}

/** The StatefulSet, Deployment or DaemonSet of a component, and its client Service. */
export function workloadName(cluster: ClusterRef, component: Component): string {
  return `${cluster.name}-${component}`;
}

export function headlessServiceName(cluster: ClusterRef, component: RingComponent): string {
  return `${cluster.name}-${component}-headless`;
}

export function configMapName(cluster: ClusterRef, component: Component): string {
  return `${cluster.name}-${component}-config`;
}

/** The pod name of ring member `index`. */
export function memberPodName(cluster: ClusterRef, component: RingComponent, index: number): string {
  return `${workloadName(cluster, component)}-${index}`;
}

/** `host:port` of ring member `index`, on `port`. */
export function memberAddress(
  cluster: ClusterRef,
  component: RingComponent,
  index: number,
  port: number,
): string {
  const pod = memberPodName(cluster, component, index);
  return `${pod}.${headlessServiceName(cluster, component)}.${cluster.namespace}.svc:${port}`;
}

/** `host:port` of a component's client Service. */
export function serviceAddress(cluster: ClusterRef, component: Component, port: number): string {
  return `${workloadName(cluster, component)}.${cluster.namespace}.svc:${port}`;
}

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const MANAGED_BY = 'kraken-operator';

/** Labels that select a component's pods; stable for the life of the workload. */
export function selectorLabels(cluster: ClusterRef, component: Component): Record<string, string> {
  return { [LABELS.name]: 'kraken', [LABELS.instance]: cluster.name, [LABELS.component]: component };
}

/** Labels of every object of a component. */
export function componentLabels(cluster: ClusterRef, component: Component): Record<string, string> {
  return { ...selectorLabels(cluster, component), [LABELS.managedBy]: MANAGED_BY };
}
