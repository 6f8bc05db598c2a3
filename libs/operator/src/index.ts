// API types (kraken.dev/v1alpha1), CRDs and rendering of a cluster into Kubernetes objects.
export {
  KRAKEN_API_VERSION,
  KRAKEN_CLUSTER_KIND,
  KRAKEN_CLUSTER_NAMES,
  KRAKEN_GROUP,
  KRAKEN_VERSION,
  REPLICATION_RULE_KIND,
  REPLICATION_RULE_NAMES,
} from './api/v1alpha1/group-version.js';
export type { ResourceNames } from './api/v1alpha1/group-version.js';
export {
  CONDITION_TYPES,
  KRAKEN_CLUSTER_REASONS,
  REPLICATION_RULE_REASONS,
  conditionSchema,
} from './api/v1alpha1/conditions.js';
export type { Condition, ConditionStatus, ConditionType } from './api/v1alpha1/conditions.js';
export { quantityBytes, quantitySchema, quantityValue } from './api/v1alpha1/quantity.js';
export type { Quantity } from './api/v1alpha1/quantity.js';
export type { Resources, SecretKeyRef, Toleration } from './api/v1alpha1/core-types.js';
export type { StorageSpec } from './api/v1alpha1/storage-spec.js';
export { krakenClusterSpecSchema, krakenClusterStatusSchema } from './api/v1alpha1/kraken-cluster-types.js';
export type {
  ComponentReadiness,
  KrakenCluster,
  KrakenClusterSpec,
  KrakenClusterSpecInput,
  KrakenClusterStatus,
  ResourceMeta,
} from './api/v1alpha1/kraken-cluster-types.js';
export {
  MAX_CLUSTER_NAME_LENGTH,
  clusterIdOf,
  validateKrakenCluster,
} from './api/v1alpha1/kraken-cluster-validation.js';
export {
  replicationRuleSpecSchema,
  replicationRuleStatusSchema,
} from './api/v1alpha1/replication-rule-types.js';
export type {
  ReplicationRule,
  ReplicationRuleSpec,
  ReplicationRuleSpecInput,
  ReplicationRuleStatus,
} from './api/v1alpha1/replication-rule-types.js';
export {
  OPERATOR_RULE_PREFIX,
  buildIndexRuleName,
  isOperatorRuleName,
  parseReplicationRuleSpec,
  replicationRuleStatus,
  toBuildIndexRule,
} from './api/v1alpha1/replication-rule-mapping.js';
export type {
  ReplicationEndpoints,
  ReplicationRuleStatusInput,
} from './api/v1alpha1/replication-rule-mapping.js';
export {
  crdFileName,
  crdManifests,
  crdYaml,
  krakenClusterCrd,
  replicationRuleCrd,
} from './crd/crd-manifest.js';
export type { CustomResourceDefinition, PrinterColumn } from './crd/crd-manifest.js';
export { toStructuralSchema } from './crd/structural-schema.js';
export type { SchemaNode } from './crd/structural-schema.js';
export { renderCluster } from './render/cluster-render.js';
export type { RenderOptions, RenderedCluster } from './render/cluster-render.js';
export { renderComponentConfigs } from './render/config-render.js';
export type {
  AgentConfigInput,
  BuildIndexConfigInput,
  ComponentConfigs,
  ConfigAddressing,
  OriginConfigInput,
  ProxyConfigInput,
  TrackerConfigInput,
} from './render/config-render.js';
export { clusterEndpoints, clusterReplicationEndpoints } from './render/cluster-endpoints.js';
export type { ClusterEndpoints } from './render/cluster-endpoints.js';
export { certificateRequirements } from './render/certificate-requirements.js';
export type { CertificateRequirement } from './render/certificate-requirements.js';
export { CONFIG_HASH_ANNOTATION } from './render/pod-template.js';
export {
  LABELS,
  MANAGED_BY,
  PORTS,
  configMapName,
  selectorLabels,
  workloadName,
} from './render/component-names.js';
export type { Component } from './render/component-names.js';
export type { SecretReference } from './render/secret-mounts.js';
export type { RenderedObject } from './render/object-meta.js';
export { InvalidSpecError, UnsupportedSchemaError } from './errors.js';
export type { SpecIssue } from './errors.js';

// Controller runtime: API client, informers, work queue, controllers, status, finalizers, leader election.
export { createKubeClient, defaultFieldManager } from './runtime/kube-client.js';
export type {
  ApplyResult,
  DeleteOptions,
  KubeClient,
  KubeClientOptions,
  RequestOptions,
} from './runtime/kube-client.js';
export { loadKubeConfig } from './runtime/kube-config.js';
export type { KubeConfigOptions, LoadedKubeConfig } from './runtime/kube-config.js';
export { builtinKinds, isOfKind, keyOf, objectKey, parseKey, resourcePath } from './runtime/resource-kind.js';
export type { KubeObject, ObjectMeta, OwnerReference, ResourceKind } from './runtime/resource-kind.js';
export type {
  ListOptions,
  ListWatchSource,
  ObjectEvent,
  ObjectList,
  WatchOptions,
} from './runtime/list-watch.js';
export { createInformer } from './runtime/informer.js';
export type { CacheFilter, Informer, InformerHandler, InformerOptions } from './runtime/informer.js';
export { createWorkQueue } from './runtime/work-queue.js';
export type { ProcessOutcome, WorkQueue, WorkQueueOptions } from './runtime/work-queue.js';
export { createController, ownerKeys } from './runtime/controller.js';
export type { Controller, ControllerOptions, ReconcileOutcome, WatchSpec } from './runtime/controller.js';
export { firstDifference, isFieldSubset } from './runtime/field-subset.js';
export { findCondition, formatKubeTime, setCondition } from './runtime/conditions.js';
export type { ConditionLike } from './runtime/conditions.js';
export { statusEqual } from './runtime/status-patch.js';
export { createLeaderElector, defaultIdentity } from './runtime/leader-elector.js';
export type { LeaderElector, LeaderElectorOptions } from './runtime/leader-elector.js';
export type { LeaseApi, LeaseRecord, LeaseRef, LeaseSpec } from './runtime/lease-api.js';
export { createRuntimeMetrics } from './runtime/runtime-metrics.js';
export type { ReconcileResult, RuntimeMetrics, WriteVerb } from './runtime/runtime-metrics.js';
export { leaderElectionConfigSchema, workQueueConfigSchema } from './runtime/runtime-config.js';
export type { LeaderElectionConfig, WorkQueueConfig } from './runtime/runtime-config.js';
export {
  KubeApiError,
  KubeApiUnreachableError,
  KubeConfigUnavailableError,
  LeadershipLostError,
  UnknownKindError,
  isConflict,
  isGone,
  isNotFound,
} from './errors.js';
export type { KubeApiFailure } from './errors.js';

// Controllers and the operator that runs them under leader election.
export { createOperator } from './operator.js';
export type { Operator, OperatorOptions } from './operator.js';
export { createClusterController, clusterKey } from './controllers/cluster-controller.js';
export type { ClusterControllerOptions } from './controllers/cluster-controller.js';
export { createRuleController, REPLICATION_RULE_FINALIZER } from './controllers/rule-controller.js';
export type { RuleControllerOptions } from './controllers/rule-controller.js';
export { createBuildIndexApi } from './controllers/build-index-api.js';
export type { BuildIndexApi, BuildIndexApiOptions } from './controllers/build-index-api.js';
export { krakenClusterKind, replicationRuleKind } from './controllers/kinds.js';
export { clusterStatus, workloadState } from './controllers/cluster-status.js';
export type {
  ClusterStatusInput,
  ComponentStates,
  Degradation,
  WorkloadState,
} from './controllers/cluster-status.js';
