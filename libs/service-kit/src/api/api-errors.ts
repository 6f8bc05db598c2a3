/**
 * Typed errors of the /v1/ conventions every internal API follows, on both sides: a
 * malformed request, a remote's error answer, an unreachable or slow remote, and a
 * client that went away. Servers serialise errors as `{error: {code, message, detail}}`
 * (error-body.ts); clients turn such bodies back into RemoteApiError.
 */
import { KrakenError, type ErrorCode } from '@kraken/foundation';

/** A request that is malformed: bad parameter, header or body. */
export class InvalidRequestError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_INVALID_REQUEST', message, { statusCode: 400, detail });
  }
}

/** An error reported by a remote /v1/ endpoint; `code` and `statusCode` are the remote's. */
export class RemoteApiError extends KrakenError {
  constructor(code: string, message: string, options: { statusCode: number; detail?: unknown }) {
    // The remote's code: from the catalogue of the remote's version, or KRAKEN_HTTP_<status>.
    super(code as ErrorCode, message, options);
  }
}

/** The remote service could not be reached, or the exchange failed before a response. */
export class ServiceUnreachableError extends KrakenError {
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('KRAKEN_SERVICE_UNREACHABLE', `request to ${url} failed: ${reason}`, { statusCode: 503, cause });
  }
}

/** No answer within the headers timeout, or a pause in the body longer than the body timeout. */
export class HttpTimeoutError extends KrakenError {
  readonly phase: 'headers' | 'body';
  constructor(what: string, phase: 'headers' | 'body', timeoutMs: number) {
    super(
      'KRAKEN_HTTP_TIMEOUT',
      phase === 'headers'
        ? `${what}: no answer within ${timeoutMs} ms`
        : `${what}: the body paused for more than ${timeoutMs} ms`,
      { statusCode: 504 },
    );
    this.phase = phase;
  }
}

/**
 * A write from a client whose verified certificate names none of the identities allowed
 * to write (or from a client without one). The identity it did name is in the detail.
 */
export class IdentityForbiddenError extends KrakenError {
  constructor(identity: readonly string[] | undefined) {
    super(
      'KRAKEN_IDENTITY_FORBIDDEN',
      identity === undefined
        ? 'writes need a verified client certificate'
        : `the client certificate (${identity.join(', ') || 'no names'}) names no identity allowed to write`,
      { statusCode: 403, ...(identity === undefined ? {} : { detail: { identity } }) },
    );
  }
}

/** The client went away before its request body was complete; nobody reads the answer. */
export class RequestAbortedError extends KrakenError {
  constructor(cause?: unknown) {
    super('KRAKEN_REQUEST_ABORTED', 'the client aborted the request', { statusCode: 400, cause });
  }
}
