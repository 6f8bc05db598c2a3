/**
 * The API group and version of the operator's resources, their kinds and the names
 * the API server serves them under. The CRDs, the controllers and the objects the
 * renderer writes all take these from here.
 */
export const KRAKEN_GROUP = 'kraken.dev';
export const KRAKEN_VERSION = 'v1alpha1';
export const KRAKEN_API_VERSION = `${KRAKEN_GROUP}/${KRAKEN_VERSION}` as const;

export const KRAKEN_CLUSTER_KIND = 'KrakenCluster';
export const REPLICATION_RULE_KIND = 'ReplicationRule';

/** How the API server names a kind: `kubectl get <plural>`, `<shortName>`, and the category. */
export interface ResourceNames {
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
}

export const KRAKEN_CLUSTER_NAMES: ResourceNames = {
  kind: KRAKEN_CLUSTER_KIND,
  listKind: `${KRAKEN_CLUSTER_KIND}List`,
  plural: 'krakenclusters',
  singular: 'krakencluster',
  shortNames: ['kc'],
  categories: ['kraken'],
};

export const REPLICATION_RULE_NAMES: ResourceNames = {
  kind: REPLICATION_RULE_KIND,
  listKind: `${REPLICATION_RULE_KIND}List`,
  plural: 'replicationrules',
  singular: 'replicationrule',
  shortNames: ['rr'],
  categories: ['kraken'],
};
