/** The operator's own kinds as the runtime addresses them (group, version, plural). */
import {
  KRAKEN_API_VERSION,
  KRAKEN_CLUSTER_KIND,
  KRAKEN_CLUSTER_NAMES,
  REPLICATION_RULE_KIND,
  REPLICATION_RULE_NAMES,
} from '../api/v1alpha1/group-version.js';
import type { ResourceKind } from '../runtime/resource-kind.js';

export const krakenClusterKind: ResourceKind = {
  apiVersion: KRAKEN_API_VERSION,
  kind: KRAKEN_CLUSTER_KIND,
  plural: KRAKEN_CLUSTER_NAMES.plural,
  namespaced: true,
};

export const replicationRuleKind: ResourceKind = {
  apiVersion: KRAKEN_API_VERSION,
  kind: REPLICATION_RULE_KIND,
  plural: REPLICATION_RULE_NAMES.plural,
  namespaced: true,
};
