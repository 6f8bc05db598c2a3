/**
 * Reading the JSON answers of /v1/ endpoints on the client side: bounded in size,
 * parsed, and validated against the shared zod contract, so a misbehaving peer
 * yields one typed error (502 KRAKEN_INVALID_RESPONSE) and never an unbounded buffer.
 */
import type { z } from 'zod';
import { readBounded, type ByteSource } from '@kraken/foundation';
import { RemoteApiError } from './api-errors.js';

export function invalidResponse(what: string, reason: string): RemoteApiError {
  return new RemoteApiError('KRAKEN_INVALID_RESPONSE', `${what}: invalid response: ${reason}`, {
    statusCode: 502,
  });
}

export async function readJsonResponse<T>(
  body: ByteSource,
  options: { schema: z.ZodType<T>; what: string; maxBytes: number },
): Promise<T> {
  const { schema, what, maxBytes } = options;
  const { bytes } = await readBounded(body, maxBytes);
  if (bytes === undefined) throw invalidResponse(what, `larger than ${maxBytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidResponse(what, 'not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw invalidResponse(
      what,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}
