/**
 * @kraken/build-index: tag → digest and repository membership. The tag store
 * (store/), versions of tag writes (version/), the /v1/ API with its manifest-closure
 * check (api/), replication among the nodes of one cluster (cluster/), replication
 * between clusters by rules (replication/), and the clients the proxy and agents
 * resolve references with (client/).
 */
export { createBuildIndexRoutes } from './api/routes.js';
export { buildIndexRouteContracts } from './route-contracts.js';
export { createBuildIndexClient } from './client/build-index-client.js';
export type { BuildIndexClient } from './client/client-types.js';
export { createBuildIndexClusterClient } from './client/cluster-client.js';
export { readManifestBytes } from './client/manifest-fetch.js';
export { toManifestRecord, toReferrerDescriptor } from './client/manifest-record.js';
export { createManifestResolver } from './client/manifest-resolver.js';
export { buildIndexPeersSchema, buildIndexRingSchema } from './cluster/cluster-config.js';
export { createBuildIndexCluster } from './cluster/cluster.js';
export { TagRejectedError } from './errors.js';
export { createBuildIndexReplication } from './replication/replication.js';
export { replicationConfigSchema, replicationRuleSchema } from './replication/rule-config.js';
export { ruleViewSchema } from './replication/rule-store.js';
export { replicationStatusSchema } from './replication/status.js';
export type { BuildIndexRoutesOptions, TagDelete, TagWrite } from './api/routes.js';
export type { BuildIndexClusterClientOptions, BuildIndexRing } from './client/cluster-client.js';
export type { ManifestResolver, ManifestResolverOptions } from './client/manifest-resolver.js';
export type { BuildIndexCluster, BuildIndexClusterOptions } from './cluster/cluster.js';
export type { ManifestRecord } from './contracts.js';
export type { BuildIndexReplication, BuildIndexReplicationOptions } from './replication/replication.js';
export type { ReplicationConfig, ReplicationRule } from './replication/rule-config.js';
export type { ReplicationStatus, RuleStatus } from './replication/status.js';
