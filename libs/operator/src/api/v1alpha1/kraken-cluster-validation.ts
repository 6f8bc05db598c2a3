/**
 * Validation of a whole KrakenCluster: its spec against the schema, then what the
 * schema cannot see on one field alone (a cache larger than its volume, more copies
 * per blob than origins, a name too long for the objects derived from it, a TLS
 * component without a Secret). Every problem is an InvalidSpecError field, which the
 * controller reports as Degraded.
 */
import { InvalidSpecError, type SpecIssue } from '../../errors.js';
import { KRAKEN_CLUSTER_KIND } from './group-version.js';
import {
  krakenClusterSpecSchema,
  type KrakenCluster,
  type KrakenClusterSpec,
} from './kraken-cluster-types.js';
import { CLUSTER_ID_PATTERN } from './p2p-spec.js';
import { quantityBytes } from './quantity.js';
import { parseSpec } from './spec-validation.js';

/**
 * The longest suffix the renderer appends to the cluster's name (`-build-index-headless`)
 * must still leave a DNS label of 63 characters.
 */
export const MAX_CLUSTER_NAME_LENGTH = 63 - '-build-index-headless'.length;

const TLS_COMPONENTS = ['origins', 'trackers', 'buildIndex', 'proxy', 'agents'] as const;

/** The spec with defaults applied, checked as a whole; throws InvalidSpecError. */
export function validateKrakenCluster(cluster: Pick<KrakenCluster, 'metadata' | 'spec'>): KrakenClusterSpec {
  const issues: SpecIssue[] = [];
  const { name } = cluster.metadata;
  if (name.length > MAX_CLUSTER_NAME_LENGTH || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name))
    issues.push({
      field: 'metadata.name',
      message: `must be a DNS label of at most ${MAX_CLUSTER_NAME_LENGTH} characters starting with a letter (the names of the cluster's Services derive from it)`,
    });
  let spec: KrakenClusterSpec;
  try {
    spec = parseSpec(KRAKEN_CLUSTER_KIND, krakenClusterSpecSchema, cluster.spec);
  } catch (err) {
    if (err instanceof InvalidSpecError)
      throw new InvalidSpecError(KRAKEN_CLUSTER_KIND, [...issues, ...err.issues]);
    throw err;
  }
  if (spec.origins.ringReplicas > spec.origins.replicas)
    issues.push({
      field: 'spec.origins.ringReplicas',
      message: `must be at most origins.replicas (${spec.origins.replicas})`,
    });
  if (quantityBytes(spec.origins.cacheSize) > quantityBytes(spec.origins.volume.size))
    issues.push({
      field: 'spec.origins.cacheSize',
      message: `must fit the volume (${String(spec.origins.volume.size)})`,
    });
  if (spec.p2p.clusterId === undefined && !new RegExp(CLUSTER_ID_PATTERN).test(name))
    issues.push({
      field: 'spec.p2p.clusterId',
      message: `the default, the cluster's name ${name}, is not 1-63 characters of [a-z0-9-]: set one`,
    });
  if (spec.tls !== undefined) {
    const tls = spec.tls;
    for (const component of TLS_COMPONENTS) {
      if (tls[component] === undefined && tls.secretName === undefined)
        issues.push({ field: `spec.tls.${component}`, message: 'no Secret: set it or spec.tls.secretName' });
    }
  }
  if (spec.proxy.service.nodePort !== undefined && spec.proxy.service.type === 'ClusterIP')
    issues.push({
      field: 'spec.proxy.service.nodePort',
      message: 'needs service type NodePort or LoadBalancer',
    });
  if (issues.length > 0) throw new InvalidSpecError(KRAKEN_CLUSTER_KIND, issues);
  return spec;
}

/** This cluster's id: in P2P handshakes and in the build-index's tag versions. */
export function clusterIdOf(cluster: Pick<KrakenCluster, 'metadata'>, spec: KrakenClusterSpec): string {
  return spec.p2p.clusterId ?? cluster.metadata.name;
}
