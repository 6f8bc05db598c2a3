/** Typed errors of the OCI content model. */
import { KrakenError } from '@kraken/foundation';

/** A digest string that is malformed or uses an unsupported algorithm. */
export class InvalidDigestError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_INVALID_DIGEST', message, { statusCode: 400, detail });
  }
}

/** Content whose computed digest or size differs from the one it was declared with. */
export class DigestMismatchError extends KrakenError {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string) {
    super('KRAKEN_DIGEST_MISMATCH', `content digest ${actual} does not match expected ${expected}`, {
      statusCode: 400,
      detail: { expected, actual },
    });
    this.expected = expected;
    this.actual = actual;
  }
}

/** Content whose byte count differs from the declared size. */
export class SizeMismatchError extends KrakenError {
  constructor(expected: number, actual: number) {
    super('KRAKEN_SIZE_MISMATCH', `content has ${actual} bytes, expected ${expected}`, {
      statusCode: 400,
      detail: { expected, actual },
    });
  }
}

/** Content larger than the limit configured for it. */
export class ContentTooLargeError extends KrakenError {
  constructor(limit: number, what = 'content') {
    super('KRAKEN_CONTENT_TOO_LARGE', `${what} exceeds the limit of ${limit} bytes`, {
      statusCode: 413,
      detail: { limit },
    });
  }
}

/** A repository name outside the distribution spec grammar. */
export class InvalidRepositoryNameError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_INVALID_REPOSITORY_NAME', message, { statusCode: 400 });
  }
}

/** A tag outside the distribution spec grammar. */
export class InvalidTagError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_INVALID_TAG', message, { statusCode: 400 });
  }
}
