/**
 * Errors raised by the registry API and its upload store. Each has a stable code; the
 * OCI error code and HTTP status a client sees are decided in error-mapper.ts only.
 * Stores may throw the ones marked "store" to report a specific OCI condition.
 */
import { KrakenError } from '@kraken/foundation';

/** A repository name that does not match the distribution spec's grammar (or a path traversal attempt). */
export class NameInvalidError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_REGISTRY_NAME_INVALID', message, { statusCode: 400 });
  }
}

/** A repository the store does not know. */
export class NameUnknownError extends KrakenError {
  constructor(repo: string) {
    super('KRAKEN_REGISTRY_NAME_UNKNOWN', `repository ${repo} is not known`, {
      statusCode: 404,
      detail: { name: repo },
    });
  }
}

/** A tag that does not match `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. */
export class TagInvalidError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_REGISTRY_TAG_INVALID', message, { statusCode: 400 });
  }
}

export class BlobUnknownError extends KrakenError {
  constructor(digest: string) {
    super('KRAKEN_REGISTRY_BLOB_UNKNOWN', `blob ${digest} is not known`, {
      statusCode: 404,
      detail: { digest },
    });
  }
}

export class ManifestUnknownError extends KrakenError {
  constructor(reference: string) {
    super('KRAKEN_REGISTRY_MANIFEST_UNKNOWN', `manifest ${reference} is not known`, {
      statusCode: 404,
      detail: { reference },
    });
  }
}

/** (store) A manifest references blobs or child manifests that are not in the repository. */
export class ManifestBlobUnknownError extends KrakenError {
  readonly missing: readonly string[];

  constructor(missing: readonly string[]) {
    super(
      'KRAKEN_REGISTRY_MANIFEST_BLOB_UNKNOWN',
      `manifest references unknown content: ${missing.join(', ')}`,
      {
        statusCode: 400,
        detail: { missing },
      },
    );
    this.missing = missing;
  }
}

/** A manifest document larger than the configured limit. */
export class ManifestTooLargeError extends KrakenError {
  constructor(limit: number) {
    super('KRAKEN_REGISTRY_MANIFEST_TOO_LARGE', `manifest exceeds the limit of ${limit} bytes`, {
      statusCode: 413,
      detail: { limit },
    });
  }
}

export class UploadUnknownError extends KrakenError {
  constructor(id: string) {
    super('KRAKEN_REGISTRY_UPLOAD_UNKNOWN', 'blob upload session is not known', {
      statusCode: 404,
      detail: { id },
    });
  }
}

/** An upload request that cannot apply to the session as it is (busy, malformed chunk, missing digest...). */
export class UploadInvalidError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_REGISTRY_UPLOAD_INVALID', message, { statusCode: 400, detail });
  }
}

/**
 * A byte range that cannot be honoured: an upload chunk that does not start at the
 * session's offset, or a read range outside the blob. `size` is the current length
 * (bytes received so far, or the blob size).
 */
export class RangeInvalidError extends KrakenError {
  readonly size: number;

  constructor(message: string, size: number) {
    super('KRAKEN_REGISTRY_RANGE_INVALID', message, { statusCode: 416, detail: { size } });
    this.size = size;
  }
}

/** A listing's `n` or `last` query parameter that is malformed. */
export class PaginationInvalidError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_REGISTRY_PAGINATION_INVALID', message, { statusCode: 400 });
  }
}

/** (store) An operation this registry does not offer: push on a read-only registry, deletes, unknown endpoints. */
export class UnsupportedError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_REGISTRY_UNSUPPORTED', message, { statusCode: 405 });
  }
}

/**
 * A path under /v2/ that names no endpoint, or an optional API (referrers) this
 * registry does not offer: 404, so that clients fall back as the spec tells them to.
 */
export class EndpointNotFoundError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_REGISTRY_ENDPOINT_NOT_FOUND', message, { statusCode: 404 });
  }
}

/** Options given to the registry API plugin that cannot work together. */
export class RegistryOptionsError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_REGISTRY_OPTIONS_INVALID', message);
  }
}

/**
 * (store/auth hooks) Authentication is required, or the credentials sent are not valid.
 * `challenge` becomes the `WWW-Authenticate` header, which tells the client how to
 * authenticate (Basic, or where to get a Bearer token for which scope).
 */
export class UnauthorizedError extends KrakenError {
  readonly challenge: string | undefined;

  constructor(message = 'authentication required', challenge?: string) {
    super('KRAKEN_REGISTRY_UNAUTHORIZED', message, { statusCode: 401 });
    this.challenge = challenge;
  }
}

/** (store/auth hooks) The caller is authenticated but not allowed to do this. */
export class DeniedError extends KrakenError {
  constructor(message = 'requested access to the resource is denied') {
    super('KRAKEN_REGISTRY_DENIED', message, { statusCode: 403 });
  }
}

/** (store) Back off and retry later; `retryAfterSeconds` becomes the Retry-After header. */
export class TooManyRequestsError extends KrakenError {
  readonly retryAfterSeconds: number | undefined;

  constructor(message = 'too many requests', retryAfterSeconds?: number) {
    super('KRAKEN_REGISTRY_TOO_MANY_REQUESTS', message, { statusCode: 429 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * An auth file (htpasswd, groups, the token issuer's public key) or auth setting that
 * cannot be used. The message names the file and line; it never quotes a hash or key.
 */
export class AuthConfigError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_REGISTRY_AUTH_CONFIG_INVALID', message);
  }
}
