/**
 * The in-cluster addresses of a KrakenCluster's components, as its rendered configs list
 * them: what a test maps to local ports (renderComponentConfigs' `addressing`), and what
 * a ReplicationRule whose destination is this cluster hands the source build-index.
 */
import type { KrakenCluster } from '../api/v1alpha1/kraken-cluster-types.js';
import { validateKrakenCluster } from '../api/v1alpha1/kraken-cluster-validation.js';
import type { ReplicationEndpoints } from '../api/v1alpha1/replication-rule-mapping.js';
import { PORTS, memberAddress, serviceAddress } from './component-names.js';

export interface ClusterEndpoints {
  /** `scheme` of every link between components: https with `spec.tls`. */
  readonly scheme: 'http' | 'https';
  /** Ring members, `host:port`, in ring order. */
  readonly origins: readonly string[];
  readonly originsP2p: readonly string[];
  readonly trackers: readonly string[];
  readonly buildIndex: readonly string[];
  /** The proxy Service's in-cluster address. */
  readonly proxy: string;
}

export function clusterEndpoints(cluster: Pick<KrakenCluster, 'metadata' | 'spec'>): ClusterEndpoints {
  const spec = validateKrakenCluster(cluster);
  const ref = cluster.metadata;
  const members = (count: number, address: (i: number) => string) =>
    Array.from({ length: count }, (_, i) => address(i));
  return {
    scheme: spec.tls === undefined ? 'http' : 'https',
    origins: members(spec.origins.replicas, (i) => memberAddress(ref, 'origin', i, PORTS.origin)),
    originsP2p: members(spec.origins.replicas, (i) => memberAddress(ref, 'origin', i, PORTS.originP2p)),
    trackers: members(spec.trackers.replicas, (i) => memberAddress(ref, 'tracker', i, PORTS.tracker)),
    buildIndex: members(spec.buildIndex.replicas, (i) =>
      memberAddress(ref, 'build-index', i, PORTS.buildIndex),
    ),
    proxy: serviceAddress(ref, 'proxy', PORTS.proxy),
  };
}

/** What a replication rule needs of this cluster as its destination: build-index URLs and the origin ring. */
export function clusterReplicationEndpoints(
  cluster: Pick<KrakenCluster, 'metadata' | 'spec'>,
): ReplicationEndpoints {
  const spec = validateKrakenCluster(cluster);
  const endpoints = clusterEndpoints(cluster);
  return {
    buildIndex: endpoints.buildIndex.map((address) => `${endpoints.scheme}://${address}`),
    origins: {
      nodes: endpoints.origins.map((address) => `${endpoints.scheme}://${address}`),
      replicas: spec.origins.ringReplicas,
    },
  };
}
