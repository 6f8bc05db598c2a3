/** The one error the HTTP client adds to Node's own: a remote that answers too slowly. */
import { KrakenError } from '@kraken/foundation';

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
