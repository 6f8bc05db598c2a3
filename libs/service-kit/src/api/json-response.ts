/**
 * Reading the JSON answers of /v1/ endpoints on the client side: bounded in size,
 * parsed, and validated against the shared zod contract, so a misbehaving peer
 * yields one typed error (502 KRAKEN_INVALID_RESPONSE) and never an unbounded buffer.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { RemoteApiError } from './api-errors.js';

export function invalidResponse(what: string, reason: string): RemoteApiError {
  return new RemoteApiError('KRAKEN_INVALID_RESPONSE', `${what}: invalid response: ${reason}`, {
    statusCode: 502,
  });
}

export async function readJsonResponse<T>(
  body: Dispatcher.ResponseData['body'],
  options: { schema: z.ZodType<T>; what: string; maxBytes: number },
): Promise<T> {
  const { schema, what, maxBytes } = options;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      body.destroy();
      throw invalidResponse(what, `larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
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
