import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorCatalogue } from './error-catalogue.js';
import { KrakenError, isKrakenError } from './kraken-error.js';

class SampleError extends KrakenError {
  constructor(cause?: unknown) {
    super('KRAKEN_INVALID_DIGEST', 'bad digest', { statusCode: 400, detail: { digest: 'x' }, cause });
  }
}

describe('KrakenError', () => {
  it('carries code, status, detail, cause and the subclass name', () => {
    const cause = new Error('root');
    const err = new SampleError(cause);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SampleError');
    expect(err.code).toBe('KRAKEN_INVALID_DIGEST');
    expect(err.statusCode).toBe(400);
    expect(err.detail).toEqual({ digest: 'x' });
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('bad digest');
  });

  it('has no cause property when none is given', () => {
    expect(Object.hasOwn(new SampleError(), 'cause')).toBe(false);
  });

  it('isKrakenError matches by class and, when given, by code', () => {
    const err = new SampleError();
    expect(isKrakenError(err)).toBe(true);
    expect(isKrakenError(err, 'KRAKEN_INVALID_DIGEST', 'KRAKEN_SIZE_MISMATCH')).toBe(true);
    expect(isKrakenError(err, 'KRAKEN_SIZE_MISMATCH')).toBe(false);
    expect(isKrakenError(new Error('plain'))).toBe(false);
  });
});

describe('error catalogue', () => {
  it('describes every code, each prefixed KRAKEN_ and upper snake case', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(50);
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^KRAKEN_[A-Z0-9]+(?:_[A-Z0-9]+)*$/);
      expect(errorCatalogue[code].length).toBeGreaterThan(10);
    }
  });
});
