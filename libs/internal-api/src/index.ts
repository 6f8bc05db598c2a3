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
} from './contracts.js';
export type { ErrorBody, ManifestRecord } from './contracts.js';
export type { OriginClient, BuildIndexClient } from './client-types.js';
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
} from './errors.js';
export { errorResponse, installErrorHandler, errorFromResponse } from './error-body.js';
export type { ErrorResponse, ResponseBody } from './error-body.js';
export { createBuildIndexRoutes, MAX_PAGE_SIZE } from './build-index-routes.js';
export type { BuildIndexRoutesOptions } from './build-index-routes.js';
export { createBuildIndexClient } from './build-index-client.js';
export type { BuildIndexClientOptions } from './build-index-client.js';
export { createBuildIndexStore } from './build-index-store.js';
export type { BuildIndexStore, BuildIndexStoreOptions, BuildIndexPage, StoredTag } from './build-index-store.js';
export { createManifestClosureCheck } from './build-index-manifest-closure.js';
export type {
  ManifestClosure,
  ManifestClosureCheck,
  ManifestClosureCheckOptions,
  ManifestClosureOptions,
} from './build-index-manifest-closure.js';
export { parseRepositoryName, parseTag, isRepositoryName, isTag, MAX_REPOSITORY_NAME_LENGTH } from './build-index-names.js';
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
