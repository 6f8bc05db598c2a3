import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KrakenError } from '@kraken/foundation';
import { z } from 'zod';
import { errorFromResponse, errorResponse } from './error-body.js';

/** Errors shaped like those of the domain libs, which this lib must not import. */
class UploadOutOfOrderError extends KrakenError {
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

class DigestMismatchError extends KrakenError {
  constructor(expected: string, actual: string) {
    super('KRAKEN_DIGEST_MISMATCH', `content digest ${actual} does not match expected ${expected}`, {
      statusCode: 400,
      detail: { expected, actual },
    });
  }
}

describe('error bodies', () => {
  it('serialises typed errors with their status, code and detail', () => {
    expect(errorResponse(new UploadOutOfOrderError('u1', 10, 20))).toEqual({
      statusCode: 416,
      body: {
        error: {
          code: 'KRAKEN_UPLOAD_OUT_OF_ORDER',
          message: 'upload u1 is at offset 10, chunk starts at 20',
          detail: { uploadId: 'u1', offset: 10 },
        },
      },
    });
  });

  it('turns validation errors into 400 and hides internal failures', () => {
    const zodError = z.object({ a: z.string() }).safeParse({}).error;
    expect(errorResponse(zodError).statusCode).toBe(400);
    expect(
      errorResponse(
        Object.assign(new Error('bad media type'), {
          statusCode: 415,
          code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        }),
      ),
    ).toEqual({
      statusCode: 415,
      body: { error: { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'bad media type' } },
    });
    expect(errorResponse(new Error('disk exploded at /secret/path'))).toEqual({
      statusCode: 500,
      body: { error: { code: 'KRAKEN_INTERNAL', message: 'internal error' } },
    });
    expect(errorResponse(new KrakenError('KRAKEN_INTERNAL', 'no status')).statusCode).toBe(500);
  });

  it('round-trips an error through a response body', async () => {
    const { statusCode, body } = errorResponse(new DigestMismatchError('sha256:aa', 'sha256:bb'));
    const err = await errorFromResponse(statusCode, Readable.from([Buffer.from(JSON.stringify(body))]));
    expect(err).toMatchObject({
      code: 'KRAKEN_DIGEST_MISMATCH',
      statusCode: 400,
      detail: { expected: 'sha256:aa', actual: 'sha256:bb' },
    });
    expect(err).toBeInstanceOf(KrakenError);
  });

  it('codes foreign bodies by status and bounds what it reads', async () => {
    const html = await errorFromResponse(502, Readable.from([Buffer.from('<html>bad gateway</html>')]));
    expect(html).toMatchObject({ code: 'KRAKEN_HTTP_502', statusCode: 502 });
    expect(html.message).toContain('bad gateway');
    const huge = Readable.from(
      (function* () {
        for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024, 120);
      })(),
    );
    const err = await errorFromResponse(500, huge);
    expect(err.message.length).toBeLessThan(300);
    expect(huge.destroyed).toBe(true);
  });
});
