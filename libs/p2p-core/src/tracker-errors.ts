/**
 * Typed errors of the tracker API, on both sides: the routes answer them as
 * `{error: {code, message, detail}}` (the /v1/ error body every component uses), and
 * the announce client turns such answers back into TrackerRequestError.
 */
import { KrakenError } from '@kraken/oci-content';

/** A tracker request that failed validation (bad peer id, digest, port...). */
export class InvalidAnnounceError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_INVALID_REQUEST', message, { statusCode: 400, detail });
  }
}

/** No origin holds the blob whose metainfo was asked for. */
export class MetainfoNotFoundError extends KrakenError {
  constructor(digest: string) {
    super('KRAKEN_BLOB_NOT_FOUND', `no metainfo for blob ${digest}: no origin holds it`, {
      statusCode: 404,
      detail: { digest },
    });
  }
}

/** An error answer of the tracker; `code` and `statusCode` are the tracker's. */
export class TrackerRequestError extends KrakenError {
  constructor(code: string, message: string, options: { statusCode: number; detail?: unknown }) {
    super(code, message, options);
  }
}

/** The tracker could not be reached, or the exchange broke before an answer. */
export class TrackerUnreachableError extends KrakenError {
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('KRAKEN_SERVICE_UNREACHABLE', `request to ${url} failed: ${reason}`, { statusCode: 503, cause });
  }
}
