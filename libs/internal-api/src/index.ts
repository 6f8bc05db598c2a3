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
