/**
 * The one place where errors become OCI distribution error responses: a status code
 * and `{"errors":[{"code","message","detail"}]}`. Known KrakenError codes (this lib's,
 * @kraken/oci-content's, and the ones other libs' stores throw) map by code; anything
 * else falls back on its HTTP status, and server-side failures never show internals.
 */
import { KrakenError } from '@kraken/foundation';
import { TooManyRequestsError, UnauthorizedError } from './errors.js';
import type { EndpointKind } from './request/registry-path.js';

/**
 * The spec's error codes, plus the legacy Docker codes clients may meet (TAG_INVALID,
 * RANGE_INVALID, PAGINATION_NUMBER_INVALID) and the ones used for 5xx bodies.
 */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'TAG_INVALID'
  | 'RANGE_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'UNAVAILABLE'
  | 'UNKNOWN';

export interface OciErrorBody {
  readonly errors: ReadonlyArray<{
    readonly code: OciErrorCode;
    readonly message: string;
    readonly detail?: unknown;
  }>;
}

export interface OciErrorResponse {
  readonly statusCode: number;
  readonly body: OciErrorBody;
  readonly headers: Readonly<Record<string, string>>;
}

type Mapping = readonly [status: number, code: OciErrorCode];

const BY_KRAKEN_CODE: Readonly<Record<string, Mapping>> = {
  // @kraken/oci-content
  KRAKEN_INVALID_DIGEST: [400, 'DIGEST_INVALID'],
  KRAKEN_DIGEST_MISMATCH: [400, 'DIGEST_INVALID'],
  KRAKEN_SIZE_MISMATCH: [400, 'SIZE_INVALID'],
  KRAKEN_CONTENT_TOO_LARGE: [413, 'SIZE_INVALID'],
  KRAKEN_INVALID_MANIFEST: [400, 'MANIFEST_INVALID'],
  // this lib (errors.ts)
  KRAKEN_REGISTRY_NAME_INVALID: [400, 'NAME_INVALID'],
  KRAKEN_REGISTRY_NAME_UNKNOWN: [404, 'NAME_UNKNOWN'],
  KRAKEN_REGISTRY_TAG_INVALID: [400, 'TAG_INVALID'],
  KRAKEN_REGISTRY_BLOB_UNKNOWN: [404, 'BLOB_UNKNOWN'],
  KRAKEN_REGISTRY_MANIFEST_UNKNOWN: [404, 'MANIFEST_UNKNOWN'],
  KRAKEN_REGISTRY_MANIFEST_BLOB_UNKNOWN: [400, 'MANIFEST_BLOB_UNKNOWN'],
  KRAKEN_REGISTRY_MANIFEST_TOO_LARGE: [413, 'MANIFEST_INVALID'],
  KRAKEN_REGISTRY_UPLOAD_UNKNOWN: [404, 'BLOB_UPLOAD_UNKNOWN'],
  KRAKEN_REGISTRY_UPLOAD_INVALID: [400, 'BLOB_UPLOAD_INVALID'],
  KRAKEN_REGISTRY_RANGE_INVALID: [416, 'RANGE_INVALID'],
  KRAKEN_REGISTRY_PAGINATION_INVALID: [400, 'PAGINATION_NUMBER_INVALID'],
  KRAKEN_REGISTRY_UNSUPPORTED: [405, 'UNSUPPORTED'],
  KRAKEN_REGISTRY_ENDPOINT_NOT_FOUND: [404, 'UNSUPPORTED'],
  KRAKEN_REGISTRY_UNAUTHORIZED: [401, 'UNAUTHORIZED'],
  KRAKEN_REGISTRY_DENIED: [403, 'DENIED'],
  KRAKEN_REGISTRY_TOO_MANY_REQUESTS: [429, 'TOOMANYREQUESTS'],
  // Thrown by stores built on @kraken/origin, @kraken/build-index and @kraken/storage-backends.
  KRAKEN_BLOB_NOT_FOUND: [404, 'BLOB_UNKNOWN'],
  KRAKEN_RANGE_NOT_SATISFIABLE: [416, 'RANGE_INVALID'],
  KRAKEN_INVALID_RANGE: [416, 'RANGE_INVALID'],
  KRAKEN_MANIFEST_REJECTED: [400, 'MANIFEST_BLOB_UNKNOWN'],
  KRAKEN_TAG_REJECTED: [400, 'MANIFEST_BLOB_UNKNOWN'],
  KRAKEN_INVALID_REPOSITORY_NAME: [400, 'NAME_INVALID'],
  KRAKEN_INVALID_TAG: [400, 'TAG_INVALID'],
  KRAKEN_TOO_MANY_UPLOADS: [429, 'TOOMANYREQUESTS'],
  KRAKEN_SERVICE_UNREACHABLE: [503, 'UNAVAILABLE'],
  KRAKEN_STORAGE_UNAVAILABLE: [503, 'UNAVAILABLE'],
};

/** What "not found" means for each endpoint, for errors that only carry a 404. */
const NOT_FOUND_BY_ENDPOINT: Partial<Record<EndpointKind, OciErrorCode>> = {
  blob: 'BLOB_UNKNOWN',
  manifest: 'MANIFEST_UNKNOWN',
  upload: 'BLOB_UPLOAD_UNKNOWN',
  uploads: 'BLOB_UNKNOWN',
};

const INVALID_BY_ENDPOINT: Partial<Record<EndpointKind, OciErrorCode>> = {
  manifest: 'MANIFEST_INVALID',
  upload: 'BLOB_UPLOAD_INVALID',
  uploads: 'BLOB_UPLOAD_INVALID',
};

/** Maps any thrown value to the response a client gets; `endpoint` refines bare 404/400s. */
export function mapError(err: unknown, endpoint?: EndpointKind): OciErrorResponse {
  const known = err instanceof KrakenError ? BY_KRAKEN_CODE[err.code] : undefined;
  const status = known?.[0] ?? statusOf(err);
  const code = known?.[1] ?? fallbackCode(status, endpoint);
  const headers: Record<string, string> = {};
  if (err instanceof TooManyRequestsError && err.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(err.retryAfterSeconds);
  }
  if (err instanceof UnauthorizedError && err.challenge !== undefined) {
    headers['www-authenticate'] = err.challenge;
  }
  if (status >= 500) {
    // Messages of server-side failures may name hosts, paths or keys: keep them in the logs.
    const message = status === 503 ? 'a dependency is unavailable, retry later' : 'internal server error';
    return { statusCode: status, body: { errors: [{ code, message }] }, headers };
  }
  const message = err instanceof Error ? err.message : 'request failed';
  const detail = err instanceof KrakenError ? err.detail : undefined;
  const entry = detail === undefined ? { code, message } : { code, message, detail };
  return { statusCode: status, body: { errors: [entry] }, headers };
}

function statusOf(err: unknown): number {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? status
    : 500;
}

function fallbackCode(status: number, endpoint: EndpointKind | undefined): OciErrorCode {
  switch (status) {
    case 400:
      return (endpoint && INVALID_BY_ENDPOINT[endpoint]) ?? 'UNSUPPORTED';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'DENIED';
    case 404:
      return (endpoint && NOT_FOUND_BY_ENDPOINT[endpoint]) ?? 'NAME_UNKNOWN';
    case 413:
      return 'SIZE_INVALID';
    case 416:
      return 'RANGE_INVALID';
    case 429:
      return 'TOOMANYREQUESTS';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'UNKNOWN' : 'UNSUPPORTED';
  }
}
