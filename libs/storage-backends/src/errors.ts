/**
 * Errors of the storage backends. Every backend maps its provider's "not found" to
 * ObjectNotFoundError and nothing else, so callers have exactly one case to handle.
 */
import { KrakenError } from '@kraken/oci-content';

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
