/**
 * @kraken/registry-api: the server side of the OCI Distribution Specification v1.1 as
 * a fastify plugin, over a small storage seam (`RegistryStore`) and a disk-backed
 * upload session store, with an auth hook and the htpasswd and token auth behind it.
 */
export { registryApi, registerRegistryApi } from './registry-api-plugin.js';
export type { RegistryApiOptions } from './registry-api-plugin.js';
export type {
  BlobStat,
  ByteRange,
  StoredManifest,
  Page,
  ReadableRegistryStore,
  WritableRegistryStore,
  RegistryStore,
} from './registry-store.js';
export { isWritableRegistryStore } from './registry-context.js';
export { createFsUploadStore } from './uploads/fs-upload-store.js';
export type { FsUploadStoreOptions } from './uploads/fs-upload-store.js';
export type {
  UploadStore,
  UploadSession,
  AppendOptions,
  AppendResult,
  VerifiedUpload,
} from './uploads/upload-store.js';
export { registryApiConfigSchema, uploadsConfigSchema, registryLimitsSchema } from './registry-api-config.js';
export { requiredAccess } from './auth/registry-access.js';
export type {
  RegistryAccess,
  RegistryAction,
  RegistryAuthorizer,
  RepositoryAccess,
} from './auth/registry-access.js';
export { createRegistryAuth } from './auth/registry-auth.js';
export type { RegistryAuth, RegistryAuthDeps } from './auth/registry-auth.js';
export { registryAuthConfigSchema } from './auth/auth-config.js';
export type { RegistryAuthConfig } from './auth/auth-config.js';
export type { RegistryApiConfig, UploadsConfig, RegistryLimits } from './registry-api-config.js';
export {
  repositoryNameSchema,
  tagSchema,
  parseRepositoryName,
  parseTag,
  parseReference,
  MAX_REPOSITORY_NAME_LENGTH,
} from './request/registry-names.js';
export type { Reference } from './request/registry-names.js';
export { mapError } from './error-mapper.js';
export type { OciErrorCode, OciErrorBody, OciErrorResponse } from './error-mapper.js';
export {
  NameInvalidError,
  NameUnknownError,
  TagInvalidError,
  BlobUnknownError,
  ManifestUnknownError,
  ManifestBlobUnknownError,
  ManifestTooLargeError,
  UploadUnknownError,
  UploadInvalidError,
  RangeInvalidError,
  PaginationInvalidError,
  UnsupportedError,
  EndpointNotFoundError,
  RegistryOptionsError,
  UnauthorizedError,
  DeniedError,
  TooManyRequestsError,
  AuthConfigError,
} from './errors.js';
