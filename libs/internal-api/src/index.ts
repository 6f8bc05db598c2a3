/**
 * @kraken/internal-api: the versioned /v1/ HTTP APIs between components. Shared
 * contracts (zod schemas), server route plugins and typed undici clients.
 */
export {
  errorBodySchema,
  uploadCreatedSchema,
  uploadStatusSchema,
  tagValueSchema,
  tagListSchema,
  repositoryListSchema,
  manifestRecordSchema,
  referrerListSchema,
  MAX_MANIFEST_RECORD_BYTES,
} from './contracts.js';
export type { ErrorBody, ManifestRecord } from './contracts.js';
export type {
  BlobBody,
  PutBlobOptions,
  OriginClient,
  OriginUploadClient,
  OriginMetainfoClient,
  OriginSeedClient,
  SeedAnswer,
  BuildIndexClient,
} from './client-types.js';
export {
  InvalidRequestError,
  RemoteApiError,
  ServiceUnreachableError,
  BlobNotFoundError,
  RangeNotSatisfiableError,
  UploadNotFoundError,
  UploadOutOfOrderError,
  UploadBusyError,
  TooManyUploadsError,
  RequestAbortedError,
  ReplicationQuorumError,
} from './errors.js';
export { errorResponse, installErrorHandler, errorFromResponse } from './error-body.js';
export type { ErrorResponse, ResponseBody } from './error-body.js';
export { createBuildIndexRoutes, MAX_PAGE_SIZE } from './build-index-routes.js';
export type { BuildIndexRoutesOptions, TagWrite } from './build-index-routes.js';
export { createBuildIndexClient } from './build-index-client.js';
export type { BuildIndexClientOptions } from './build-index-client.js';
export { createBuildIndexClusterClient } from './build-index-cluster-client.js';
export type { BuildIndexClusterClientOptions, BuildIndexRing } from './build-index-cluster-client.js';
export { createBuildIndexCluster } from './build-index-cluster.js';
export type {
  BuildIndexCluster,
  BuildIndexClusterOptions,
  ClusterTimers,
  ReplicationOutcome,
  SweepReport,
} from './build-index-cluster.js';
export { buildIndexRingSchema, buildIndexPeersSchema } from './build-index-cluster-config.js';
export type { BuildIndexPeersConfig } from './build-index-cluster-config.js';
export { createBuildIndexReplicaClient } from './build-index-replica-client.js';
export type {
  BuildIndexReplicaClient,
  BuildIndexReplicaClientOptions,
} from './build-index-replica-client.js';
export {
  replicaTagValueSchema,
  replicaTagPutSchema,
  replicaTagListSchema,
  replicaApplyResultSchema,
  replicaTombstoneSchema,
  isNewerTag,
  isDeletedBy,
} from './build-index-replica-protocol.js';
export type {
  ReplicaTagValue,
  ReplicaTagPut,
  ReplicaTagList,
  ReplicaApplyResult,
  ReplicaTombstone,
} from './build-index-replica-protocol.js';
export { createBuildIndexStore } from './build-index-store.js';
export type {
  BuildIndexStore,
  BuildIndexStoreOptions,
  BuildIndexPage,
  StoredTag,
} from './build-index-store.js';
export { createManifestClosureCheck } from './build-index-manifest-closure.js';
export type {
  ManifestClosure,
  ManifestClosureCheck,
  ManifestClosureCheckOptions,
  ManifestClosureOptions,
} from './build-index-manifest-closure.js';
export {
  parseRepositoryName,
  parseTag,
  isRepositoryName,
  isTag,
  MAX_REPOSITORY_NAME_LENGTH,
} from './build-index-names.js';
export {
  InvalidRepositoryNameError,
  InvalidTagError,
  InvalidManifestRecordError,
  TagRejectedError,
  ManifestRejectedError,
  RepositoryNotFoundError,
  TagNotFoundError,
  ManifestNotFoundError,
  CorruptIndexStateError,
} from './build-index-errors.js';
export { createProxyRegistryStore } from './proxy-registry-store.js';
export type { ProxyRegistryStoreOptions } from './proxy-registry-store.js';
export { createAgentRegistryStore } from './agent-registry-store.js';
export type { AgentRegistryStore, AgentRegistryStoreOptions } from './agent-registry-store.js';
export { createOriginRoutes } from './origin-routes.js';
export type { OriginSeeding } from './origin-seed-route.js';
export type { OriginRoutesOptions, StoredBlobEvent } from './origin-routes.js';
export { createOriginClient } from './origin-client.js';
export type { OriginClientOptions } from './origin-client.js';
export { createOriginMetainfo, MetainfoBusyError } from './origin-metainfo.js';
export type { OriginMetainfo, OriginMetainfoEntry, OriginMetainfoOptions } from './origin-metainfo.js';
export { originLimitsSchema } from './origin-limits.js';
export type { OriginLimits } from './origin-limits.js';
export { createOriginRingClient } from './origin-ring-client.js';
export type {
  OriginRing,
  OriginRingClient,
  OriginRingClientOptions,
  OriginNodeClient,
} from './origin-ring-client.js';
export { isRetryableOriginError } from './origin-owner-walk.js';
export { createOriginReplication } from './origin-replication.js';
export type {
  OriginReplication,
  OriginReplicationOptions,
  ReplicationRing,
  ReplicationTimers,
} from './origin-replication.js';
export type { ReplicationSweepReport } from './origin-replication-sweep.js';
export { originReplicationSchema } from './origin-replication-config.js';
export type { OriginReplicationConfig } from './origin-replication-config.js';
export { REPLICA_HEADER } from './origin-replica-header.js';
