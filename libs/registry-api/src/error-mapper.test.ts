import { describe, expect, it } from 'vitest';
import {
  ContentTooLargeError,
  DigestMismatchError,
  InvalidDigestError,
  InvalidManifestError,
  SizeMismatchError,
} from '@kraken/oci-content';
import { KrakenError } from '@kraken/foundation';
import { mapError } from './error-mapper.js';
import {
  BlobUnknownError,
  DeniedError,
  ManifestBlobUnknownError,
  TooManyRequestsError,
  UnauthorizedError,
  UnsupportedError,
} from './errors.js';

describe('error mapper', () => {
  it.each([
    [new InvalidDigestError('bad'), 400, 'DIGEST_INVALID'],
    [new DigestMismatchError('sha256:a', 'sha256:b'), 400, 'DIGEST_INVALID'],
    [new SizeMismatchError(1, 2), 400, 'SIZE_INVALID'],
    [new ContentTooLargeError(10), 413, 'SIZE_INVALID'],
    [new InvalidManifestError('bad'), 400, 'MANIFEST_INVALID'],
    [new BlobUnknownError('sha256:a'), 404, 'BLOB_UNKNOWN'],
    [new ManifestBlobUnknownError(['sha256:a']), 400, 'MANIFEST_BLOB_UNKNOWN'],
    [new UnsupportedError('no'), 405, 'UNSUPPORTED'],
    [new UnauthorizedError(), 401, 'UNAUTHORIZED'],
    [new DeniedError(), 403, 'DENIED'],
    [new TooManyRequestsError(), 429, 'TOOMANYREQUESTS'],
    // Codes of errors thrown by stores built on other libs.
    [new KrakenError('KRAKEN_BLOB_NOT_FOUND', 'blob x not found', { statusCode: 404 }), 404, 'BLOB_UNKNOWN'],
    [
      new KrakenError('KRAKEN_MANIFEST_REJECTED', 'missing', { statusCode: 409 }),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    ],
    [new KrakenError('KRAKEN_INVALID_RANGE', 'range', { statusCode: 416 }), 416, 'RANGE_INVALID'],
  ])('maps %s', (err, status, code) => {
    const response = mapError(err);
    expect(response.statusCode).toBe(status);
    expect(response.body.errors[0]?.code).toBe(code);
    expect(response.body.errors[0]?.message).toBe(err.message);
  });

  it('keeps structured detail', () => {
    expect(mapError(new DigestMismatchError('sha256:a', 'sha256:b')).body.errors[0]?.detail).toEqual({
      expected: 'sha256:a',
      actual: 'sha256:b',
    });
  });

  it('uses the endpoint for bare not-found and invalid errors', () => {
    const notFound = new KrakenError('KRAKEN_INTERNAL', 'gone', { statusCode: 404 });
    expect(mapError(notFound, 'blob').body.errors[0]?.code).toBe('BLOB_UNKNOWN');
    expect(mapError(notFound, 'manifest').body.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
    expect(mapError(notFound, 'upload').body.errors[0]?.code).toBe('BLOB_UPLOAD_UNKNOWN');
    expect(mapError(notFound, 'tags').body.errors[0]?.code).toBe('NAME_UNKNOWN');
    const invalid = new KrakenError('KRAKEN_INTERNAL', 'bad', { statusCode: 400 });
    expect(mapError(invalid, 'manifest').body.errors[0]?.code).toBe('MANIFEST_INVALID');
  });

  it('never shows the message of a server-side failure', () => {
    const secret = new Error('ENOENT: /var/lib/kraken/secret/path');
    const response = mapError(secret);
    expect(response.statusCode).toBe(500);
    expect(JSON.stringify(response.body)).not.toContain('secret');
    expect(response.body.errors[0]?.code).toBe('UNKNOWN');

    const unavailable = mapError(
      new KrakenError('KRAKEN_STORAGE_UNAVAILABLE', 'backend s3://bucket-name is unavailable', {
        statusCode: 503,
        detail: { x: 1 },
      }),
    );
    expect(unavailable.statusCode).toBe(503);
    expect(JSON.stringify(unavailable.body)).not.toContain('bucket-name');
    expect(unavailable.body.errors[0]?.code).toBe('UNAVAILABLE');

    expect(mapError('a string').statusCode).toBe(500);
    expect(mapError(new KrakenError('KRAKEN_INTERNAL', 'no status')).statusCode).toBe(500);
  });

  it('adds Retry-After when a back-off is known', () => {
    expect(mapError(new TooManyRequestsError('slow down', 30)).headers).toEqual({ 'retry-after': '30' });
  });

  it('adds the WWW-Authenticate challenge of an authentication failure', () => {
    const challenge = 'Basic realm="kraken"';
    const response = mapError(new UnauthorizedError('authentication required', challenge));
    expect(response.statusCode).toBe(401);
    expect(response.headers).toEqual({ 'www-authenticate': challenge });
  });
});
