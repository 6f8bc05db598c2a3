/**
 * @kraken/storage-backends: where blobs live. The StorageBackend interface (a flat,
 * paginated key space of atomically written objects) and its backends (filesystem, s3,
 * gcs, and read-only http and registry), the config that selects and routes them, the
 * resilience wrapper, the content-addressed store and local cache on top, and the
 * origin's durable write-back queue.
 */

// The backend interface and its errors.
export type {
  StorageBackend,
  NamespaceAwareBackend,
  ObjectStat,
  ListPage,
  ListOptions,
  ByteRange,
} from './storage-backend.js';
export {
  ObjectNotFoundError,
  InvalidKeyError,
  KeyConflictError,
  InvalidRangeError,
  StorageUnavailableError,
  ReadOnlyBackendError,
  NoBackendForNamespaceError,
  BackendTimeoutError,
  UpstreamResponseError,
  RegistryAuthError,
  WriteBackSourceMissingError,
  CorruptBackendContentError,
} from './errors.js';
export { isValidObjectKey } from './keys/object-key.js';
export { blobKey } from './keys/blob-key.js';

// Backends, each with its config schema.
export { createFilesystemBackend, FILESYSTEM_TEMP_DIR } from './backends/filesystem/filesystem-backend.js';
export type { FilesystemBackendOptions } from './backends/filesystem/filesystem-backend.js';
export { filesystemBackendSchema } from './backends/filesystem/filesystem-config.js';
export type { FilesystemBackendConfig } from './backends/filesystem/filesystem-config.js';
export { createS3Backend } from './backends/s3/s3-backend.js';
export type { S3BackendOptions } from './backends/s3/s3-backend.js';
export { s3BackendSchema } from './backends/s3/s3-config.js';
export type { S3BackendConfig } from './backends/s3/s3-config.js';
export { createGcsBackend } from './backends/gcs/gcs-backend.js';
export type { GcsBackendOptions } from './backends/gcs/gcs-backend.js';
export { gcsBackendSchema } from './backends/gcs/gcs-config.js';
export type { GcsBackendConfig } from './backends/gcs/gcs-config.js';
export { createHttpBackend } from './backends/http/http-backend.js';
export type { HttpBackendOptions } from './backends/http/http-backend.js';
export { httpBackendSchema } from './backends/http/http-config.js';
export type { HttpBackendConfig } from './backends/http/http-config.js';
export { createRegistryBackend } from './backends/registry/registry-backend.js';
export { manifestKey, tagKey } from './backends/registry/registry-keys.js';
export type { RegistryBackendOptions } from './backends/registry/registry-backend.js';
export type { RegistryCredentials } from './backends/registry/registry-auth.js';
export { registryBackendSchema } from './backends/registry/registry-config.js';
export type { RegistryBackendConfig } from './backends/registry/registry-config.js';

// Any backend from config, resilience, and routing by namespace.
export { storageBackendSchema } from './routing/backend-config.js';
export type { StorageBackendConfig } from './routing/backend-config.js';
export { createBackend } from './routing/create-backend.js';
export { createResilientBackend, backendResilienceSchema } from './resilience/resilient-backend.js';
export type { ResilientBackendOptions, BackendResilienceConfig } from './resilience/resilient-backend.js';
export { backendRetrySchema } from './resilience/backend-retry.js';
export { createTokenBucket, throttle } from './resilience/backend-throttle.js';
export type { TokenBucket } from './resilience/backend-throttle.js';
export type { BackendRetryConfig } from './resilience/backend-retry.js';
export { namespaceRuleSchema, backendRoutingSchema } from './routing/routing-config.js';
export type { NamespaceRuleConfig, BackendRoutingConfig } from './routing/routing-config.js';
export { createBackendRouter } from './routing/backend-router.js';
export type { BackendRouterOptions } from './routing/backend-router.js';
export type { BackendRouter } from './routing/namespace-router.js';

// Content-addressed blobs on a backend, and the local disk cache.
export { createContentStore } from './content/content-store.js';
export type { ContentStore, BlobStat, BlobWriteOptions, BlobWriteResult } from './content/content-store.js';
export { createContentCache } from './content/content-cache.js';
export type {
  CachedBlobFile,
  ContentCache,
  ContentCacheOptions,
  ContentCacheUsage,
} from './content/content-cache.js';

// The origin's durable write-back queue.
export { createWriteBackQueue } from './write-back/write-back-queue.js';
export type {
  WriteBackQueue,
  WriteBackQueueOptions,
  WriteBackQueueStats,
  WriteBackJob,
  WriteBackResult,
  QueueClock,
} from './write-back/write-back-queue.js';
export { silentStoreLogger } from './write-back/store-logger.js';
export type { StoreLogger } from './write-back/store-logger.js';
