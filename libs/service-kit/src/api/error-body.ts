/**
 * The one place where errors cross the /v1/ HTTP boundary. Servers turn any thrown
 * error into `{error: {code, message, detail}}` plus a status; clients turn such a
 * response back into a typed error. Internal failures never leak their message.
 */
import type { FastifyInstance } from 'fastify';
import { KrakenError, readPrefix } from '@kraken/foundation';
import { z } from 'zod';
import { RemoteApiError } from './api-errors.js';

/** The body of every /v1/ error answer. */
export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), detail: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Error bodies are small; anything larger is not one of ours and is cut off. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface ErrorResponse {
  readonly statusCode: number;
  readonly body: ErrorBody;
}

/** Maps a thrown value to the status and body a /v1/ endpoint answers with. */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof KrakenError && err.statusCode !== undefined) {
    return { statusCode: err.statusCode, body: bodyOf(err.code, err.message, err.detail) };
  }
  if (err instanceof z.ZodError) {
    return {
      statusCode: 400,
      body: bodyOf('KRAKEN_INVALID_REQUEST', 'request failed validation', { issues: err.issues }),
    };
  }
  // fastify's own client errors (unsupported media type, bad JSON, ...) carry a 4xx status.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (err as { code?: unknown }).code;
    return {
      statusCode: status,
      body: bodyOf(
        typeof code === 'string' ? code : 'KRAKEN_INVALID_REQUEST',
        (err as Error).message ?? 'bad request',
      ),
    };
  }
  return { statusCode: 500, body: bodyOf('KRAKEN_INTERNAL', 'internal error') };
}

/**
 * Installs the error handler on a fastify scope (a route plugin), so that every
 * error of its routes is answered as an ErrorBody. Server errors are logged.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const { statusCode, body } = errorResponse(err);
    if (statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ code: body.error.code, message: body.error.message }, 'request rejected');
    return reply.code(statusCode).send(body);
  });
}

/** A response body (`HttpResponseBody`, or any stream): an async iterable of chunks that can be dropped. */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): unknown;
}

/**
 * Reads an error response (bounded) and returns the typed error it describes. A body
 * that is not an ErrorBody still yields a RemoteApiError coded by its status.
 */
export async function errorFromResponse(statusCode: number, body: ResponseBody): Promise<RemoteApiError> {
  const text = await readErrorText(body);
  let parsed: ErrorBody | undefined;
  try {
    const result = errorBodySchema.safeParse(JSON.parse(text));
    parsed = result.success ? result.data : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined) {
    return new RemoteApiError(parsed.error.code, parsed.error.message, {
      statusCode,
      detail: parsed.error.detail,
    });
  }
  const snippet = text.length > 200 ? `${text.slice(0, 197)}...` : text;
  return new RemoteApiError(
    `KRAKEN_HTTP_${statusCode}`,
    `unexpected HTTP ${statusCode}${snippet ? `: ${snippet}` : ''}`,
    {
      statusCode,
    },
  );
}

function bodyOf(code: string, message: string, detail?: unknown): ErrorBody {
  return detail === undefined ? { error: { code, message } } : { error: { code, message, detail } };
}

async function readErrorText(body: ResponseBody): Promise<string> {
  try {
    return (await readPrefix(body, MAX_ERROR_BODY_BYTES)).toString('utf8');
  } catch {
    // A body that fails half-way still leaves us the status code to report.
    return '';
  }
}
