/**
 * Errors of the storage backends. Every backend maps its provider's "not found" to
 * ObjectNotFoundError and nothing else, so callers have exactly one case to handle.
 */
import { KrakenError } from '@kraken/foundation';

/** The documented "not found" of every StorageBackend. */
export class ObjectNotFoundError extends KrakenError {
  readonly key: string;

  constructor(key: string) {
    super('KRAKEN_OBJECT_NOT_FOUND', `object ${key} not found`, { statusCode: 404, detail: { key } });
    this.key = key;
  }
}

/** A key (or list prefix) that is not a safe relative path of allowed segments. */
export class InvalidKeyError extends KrakenError {
  constructor(key: string, reason: string) {
    const shown = key.length > 80 ? `${key.slice(0, 77)}...` : key;
    super('KRAKEN_INVALID_KEY', `invalid object key "${shown}": ${reason}`, {
      statusCode: 400,
      detail: { reason },
    });
  }
}

/** A key that collides with existing objects, e.g. `a/b` when `a` is an object. */
export class KeyConflictError extends KrakenError {
  constructor(key: string) {
    super('KRAKEN_KEY_CONFLICT', `object key ${key} conflicts with an existing object`, {
      statusCode: 409,
      detail: { key },
    });
  }
}

/** A byte range outside the object (or with end before start). */
export class InvalidRangeError extends KrakenError {
  readonly size: number;

  constructor(key: string, range: { start: number; end: number }, size: number) {
    super(
      'KRAKEN_INVALID_RANGE',
      `range ${range.start}-${range.end} is outside object ${key} of ${size} bytes`,
      {
        statusCode: 416,
        detail: { key, size },
      },
    );
    this.size = size;
  }
}

/** The backend cannot be used: not writable, unreachable, misconfigured. */
export class StorageUnavailableError extends KrakenError {
  constructor(backend: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('KRAKEN_STORAGE_UNAVAILABLE', `storage backend ${backend} is unavailable: ${reason}`, {
      statusCode: 503,
      cause,
    });
  }
}

/** A write or delete sent to a backend that only serves reads (http, registry). */
export class ReadOnlyBackendError extends KrakenError {
  constructor(backend: string, operation: string) {
    super(
      'KRAKEN_READ_ONLY_BACKEND',
      `storage backend ${backend} is read-only: ${operation} is not supported`,
      {
        statusCode: 405,
        detail: { backend, operation },
      },
    );
  }
}

/** A namespace that no routing rule matches; nothing is routed to a default silently. */
export class NoBackendForNamespaceError extends KrakenError {
  readonly namespace: string;

  constructor(namespace: string, patterns: readonly string[]) {
    const shown = namespace.length > 200 ? `${namespace.slice(0, 197)}...` : namespace;
    super(
      'KRAKEN_NO_BACKEND_FOR_NAMESPACE',
      `no storage backend for namespace "${shown}"; rules: ${patterns.map((p) => `/${p}/`).join(', ') || '(none)'}`,
      { statusCode: 404, detail: { namespace: shown, patterns } },
    );
    this.namespace = shown;
  }
}

/** A backend operation that did not complete (or start streaming) in time. Transient. */
export class BackendTimeoutError extends KrakenError {
  readonly transient = true;

  constructor(backend: string, operation: string, timeoutMs: number) {
    super(
      'KRAKEN_BACKEND_TIMEOUT',
      `storage backend ${backend}: ${operation} timed out after ${timeoutMs} ms`,
      {
        statusCode: 504,
        detail: { backend, operation, timeoutMs },
      },
    );
  }
}

/**
 * An HTTP upstream (http or registry backend) answered with an unexpected status or a
 * malformed response. `transient` is true for 5xx, 408 and 429, which are worth retrying.
 */
export class UpstreamResponseError extends KrakenError {
  readonly status: number | undefined;
  readonly transient: boolean;

  constructor(backend: string, reason: string, options: { status?: number } = {}) {
    const { status } = options;
    super('KRAKEN_UPSTREAM_RESPONSE', `storage backend ${backend}: ${reason}`, {
      statusCode: 502,
      detail: { backend, status },
    });
    this.status = status;
    this.transient = status !== undefined && (status >= 500 || status === 408 || status === 429);
  }
}

/** The upstream registry refused the configured credentials (or issued no usable token). */
export class RegistryAuthError extends KrakenError {
  constructor(backend: string, reason: string) {
    super('KRAKEN_REGISTRY_AUTH', `storage backend ${backend}: authentication failed: ${reason}`, {
      statusCode: 503,
      detail: { backend },
    });
  }
}

/**
 * A queued write-back whose local copy is gone: the blob exists nowhere the origin
 * can reach. The job is kept as failed (never dropped) for an operator to look at.
 */
export class WriteBackSourceMissingError extends KrakenError {
  constructor(digest: string) {
    super('KRAKEN_WRITE_BACK_SOURCE_MISSING', `local copy of ${digest} vanished before its write-back`, {
      statusCode: 500,
      detail: { digest },
    });
  }
}

/** Content read from a backend did not match the digest it was stored under. */
export class CorruptBackendContentError extends KrakenError {
  constructor(backend: string, digest: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'KRAKEN_CORRUPT_BACKEND_CONTENT',
      `backend ${backend} served bad content for ${digest}: ${reason}`,
      {
        statusCode: 502,
        detail: { digest },
        cause,
      },
    );
  }
}
