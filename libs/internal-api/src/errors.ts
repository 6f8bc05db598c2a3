/**
 * Typed errors of the internal /v1/ APIs, shared by every route plugin and client of
 * this lib. Servers serialise them as `{error: {code, message, detail}}` with their
 * status (see error-body.ts); clients turn such bodies back into RemoteApiError.
 */
import { KrakenError } from '@kraken/oci-content';

/** A request that is malformed: bad parameter, header or body. */
export class InvalidRequestError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_INVALID_REQUEST', message, { statusCode: 400, detail });
  }
}

/** An error reported by a remote /v1/ endpoint; `code` and `statusCode` are the remote's. */
export class RemoteApiError extends KrakenError {
  constructor(code: string, message: string, options: { statusCode: number; detail?: unknown }) {
    super(code, message, options);
  }
}

/** The remote service could not be reached, or the exchange failed before a response. */
export class ServiceUnreachableError extends KrakenError {
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('KRAKEN_SERVICE_UNREACHABLE', `request to ${url} failed: ${reason}`, { statusCode: 503, cause });
  }
}

/** No blob with this digest is stored on the origin. */
export class BlobNotFoundError extends KrakenError {
  constructor(digest: string) {
    super('KRAKEN_BLOB_NOT_FOUND', `blob ${digest} not found`, { statusCode: 404, detail: { digest } });
  }
}

/** The requested byte range lies outside the blob. */
export class RangeNotSatisfiableError extends KrakenError {
  readonly size: number;

  constructor(size: number, range: string) {
    super('KRAKEN_RANGE_NOT_SATISFIABLE', `range ${range} is not satisfiable for ${size} bytes`, {
      statusCode: 416,
      detail: { size },
    });
    this.size = size;
  }
}

/** No upload session with this id (never created, committed, cancelled or expired). */
export class UploadNotFoundError extends KrakenError {
  constructor(uploadId: string) {
    super('KRAKEN_UPLOAD_NOT_FOUND', `upload ${uploadId} not found`, {
      statusCode: 404,
      detail: { uploadId },
    });
  }
}

/** A chunk that does not start where the upload currently ends. */
export class UploadOutOfOrderError extends KrakenError {
  constructor(uploadId: string, offset: number, start: number) {
    super(
      'KRAKEN_UPLOAD_OUT_OF_ORDER',
      `upload ${uploadId} is at offset ${offset}, chunk starts at ${start}`,
      {
        statusCode: 416,
        detail: { uploadId, offset },
      },
    );
  }
}

/** Another request is writing to the same upload session right now. */
export class UploadBusyError extends KrakenError {
  constructor(uploadId: string) {
    super('KRAKEN_UPLOAD_BUSY', `upload ${uploadId} is being written by another request`, {
      statusCode: 409,
      detail: { uploadId },
    });
  }
}

/** The origin holds as many open upload sessions as it is configured for. */
export class TooManyUploadsError extends KrakenError {
  constructor(limit: number) {
    super('KRAKEN_TOO_MANY_UPLOADS', `too many open upload sessions (limit ${limit})`, {
      statusCode: 429,
      detail: { limit },
    });
  }
}

/** The client went away before its request body was complete; nobody reads the answer. */
export class RequestAbortedError extends KrakenError {
  constructor(cause?: unknown) {
    super('KRAKEN_REQUEST_ABORTED', 'the client aborted the request', { statusCode: 400, cause });
  }
}

/** Too few origins took a copy of a blob for its upload to be acknowledged. */
export class ReplicationQuorumError extends KrakenError {
  constructor(digest: string, copies: number, quorum: number) {
    super(
      'KRAKEN_REPLICATION_QUORUM',
      `blob ${digest} is stored on ${copies} origin(s), ${quorum} are required`,
      { statusCode: 503, detail: { digest, copies, quorum } },
    );
  }
}
