/**
 * @kraken/storage-backends: where blobs live. The StorageBackend interface (a flat,
 * paginated key space of atomically written objects), the filesystem backend, the
 * content-addressed store on top, and the config that selects a backend.
 */
export type { StorageBackend, ObjectStat, ListPage, ListOptions, ByteRange } from './storage-backend.js';
export {
  ObjectNotFoundError,
  InvalidKeyError,
  KeyConflictError,
  InvalidRangeError,
  StorageUnavailableError,
  WriteBackSourceMissingError,
  CorruptBackendContentError,
} from './errors.js';
export {
  validateObjectKey,
  isValidObjectKey,
  validateKeyPrefix,
  MAX_KEY_LENGTH,
  MAX_SEGMENT_LENGTH,
} from './object-key.js';
export { createFilesystemBackend, FILESYSTEM_TEMP_DIR } from './filesystem-backend.js';
export type { FilesystemBackendOptions } from './filesystem-backend.js';
export { createContentStore, blobKey } from './content-store.js';
export type {
  ContentStore,
  BlobStat,
  BlobWriteOptions,
  BlobWriteResult,
  BlobListPage,
} from './content-store.js';
export { storageBackendSchema, filesystemBackendSchema, createBackend } from './backend-config.js';
export type { StorageBackendConfig, FilesystemBackendConfig } from './backend-config.js';
export { createContentCache } from './content-cache.js';
export type { ContentCache, ContentCacheOptions, ContentCacheUsage } from './content-cache.js';
export { createWriteBackQueue } from './write-back-queue.js';
export type {
  WriteBackQueue,
  WriteBackQueueOptions,
  WriteBackQueueStats,
  WriteBackJob,
  WriteBackState,
  WriteBackResult,
  WriteBackBackoff,
  QueueClock,
} from './write-back-queue.js';
export type { StoreLogger } from './store-logger.js';
export { silentStoreLogger } from './store-logger.js';
export {
  ReadOnlyBackendError,
  NoBackendForNamespaceError,
  BackendTimeoutError,
  UpstreamResponseError,
  RegistryAuthError,
} from './errors.js';
export { createHttpBackend, httpBackendSchema } from './http-backend.js';
export type { HttpBackendOptions, HttpBackendConfig } from './http-backend.js';
export { createRegistryBackend, registryBackendSchema } from './registry-backend.js';
export type { RegistryBackendOptions, RegistryBackendConfig } from './registry-backend.js';
export type { RegistryCredentials } from './registry-auth.js';
export { createS3Backend } from './s3-backend.js';
export type { S3BackendOptions } from './s3-backend.js';
export { s3BackendSchema, S3_MIN_PART_BYTES, S3_MAX_PART_BYTES } from './s3-config.js';
export type { S3BackendConfig } from './s3-config.js';
export { createGcsBackend } from './gcs-backend.js';
export type { GcsBackendOptions } from './gcs-backend.js';
export { gcsBackendSchema, GCS_CHUNK_GRANULE_BYTES } from './gcs-config.js';
export type { GcsBackendConfig } from './gcs-config.js';
export {
  createBackendRouter,
  createNamespaceRouter,
  isNamespaceAware,
  namespaceRuleSchema,
  backendRoutingSchema,
} from './namespace-router.js';
export type {
  BackendRouter,
  BackendRouterOptions,
  NamespaceAwareBackend,
  NamespaceRoute,
  NamespaceRuleConfig,
  BackendRoutingConfig,
} from './namespace-router.js';
export { createResilientBackend, backendResilienceSchema } from './resilient-backend.js';
export type {
  ResilientBackendOptions,
  BackendResilienceConfig,
  ResilienceHooks,
  TimeoutEvent,
} from './resilient-backend.js';
export { backendRetrySchema, isTransientError } from './backend-retry.js';
export type { BackendRetryConfig, RetryEvent } from './backend-retry.js';
export { systemClock } from './backend-clock.js';
export type { BackendClock } from './backend-clock.js';
