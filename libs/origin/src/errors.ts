/**
 * Typed errors of the origin: blobs it does not hold, ranges outside them, upload
 * sessions, and uploads that too few origins took a copy of.
 */
import { KrakenError } from '@kraken/foundation';

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

/** The request names an upstream registry this origin does not mirror. */
export class UpstreamUnknownError extends KrakenError {
  constructor(registry: string) {
    super('KRAKEN_UPSTREAM_UNKNOWN', `upstream registry ${registry} is not configured on this origin`, {
      statusCode: 404,
      detail: { registry },
    });
  }
}

/** The upstream has no such repository or tag. */
export class UpstreamTagNotFoundError extends KrakenError {
  constructor(registry: string, repository: string, tag: string) {
    super('KRAKEN_UPSTREAM_TAG_NOT_FOUND', `${registry}/${repository}:${tag} not found upstream`, {
      statusCode: 404,
      detail: { registry, repository, tag },
    });
  }
}

/** The upstream failed (and no earlier answer may stand in for it). */
export class UpstreamUnavailableError extends KrakenError {
  constructor(registry: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('KRAKEN_UPSTREAM_UNAVAILABLE', `upstream ${registry} failed: ${reason}`, {
      statusCode: 502,
      detail: { registry },
      cause,
    });
  }
}

/** An upstream credentials file that cannot be used; names the file and key, never a value. */
export class UpstreamCredentialsError extends KrakenError {
  constructor(file: string, problem: string) {
    super('KRAKEN_UPSTREAM_CREDENTIALS_INVALID', `upstream credentials file ${file}: ${problem}`, {
      detail: { file },
    });
  }
}
