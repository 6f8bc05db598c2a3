/**
 * The client side of a /v1/ JSON API over a keep-alive HTTP pool: requests with JSON
 * bodies, answers read bounded and validated against the shared contract, error
 * answers turned back into RemoteApiError, and a failure to reach the server into
 * ServiceUnreachableError. Typed clients of one API are built on it.
 */
import type { z } from 'zod';
import { createHttpPool, type HttpResponse } from '../http-client/http-pool.js';
import type { ClientTlsContext } from '../tls/client-tls.js';
import { ServiceUnreachableError } from './api-errors.js';
import { errorFromResponse } from './error-body.js';
import { readJsonResponse } from './json-response.js';

export interface JsonApiClientOptions {
  /** Base URL of the server; a path in it prefixes every request. */
  readonly url: string;
  /** Time allowed for an answer to start, and for each pause in its body (ms). */
  readonly timeoutMs: number;
  /** Largest answer read (bytes). */
  readonly maxResponseBytes: number;
  /** Keep-alive connections (default 4). */
  readonly connections?: number;
  /** TLS for https:// URLs: the client files (`createClientTls`); the system CAs when absent. */
  readonly tls?: ClientTlsContext | undefined;
}

export interface JsonApiRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly path: string;
  /** Sent as JSON. */
  readonly body?: unknown;
}

export interface JsonApiClient {
  /** The base URL, without a trailing slash. */
  readonly url: string;
  /** The raw answer; ServiceUnreachableError when the exchange fails before one. */
  send(request: JsonApiRequest, signal?: AbortSignal): Promise<HttpResponse>;
  /**
   * The validated answer on 200; undefined on 404 unless `notFound: 'error'`; any other
   * status throws the RemoteApiError its error body describes.
   */
  json<T>(
    request: JsonApiRequest,
    schema: z.ZodType<T>,
    options?: { signal?: AbortSignal | undefined; notFound?: 'undefined' | 'error' },
  ): Promise<T | undefined>;
  close(): Promise<void>;
}

export function createJsonApiClient(options: JsonApiClientOptions): JsonApiClient {
  const base = new URL(options.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = base.origin + prefix;
  const pool = createHttpPool(base.origin, {
    connections: options.connections ?? 4,
    headersTimeoutMs: options.timeoutMs,
    bodyTimeoutMs: options.timeoutMs,
    tls: options.tls,
  });

  const send = async (request: JsonApiRequest, signal?: AbortSignal): Promise<HttpResponse> => {
    try {
      return await pool.request({
        method: request.method,
        path: prefix + request.path,
        ...(request.body === undefined
          ? {}
          : { body: JSON.stringify(request.body), headers: { 'content-type': 'application/json' } }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ServiceUnreachableError(`${request.method} ${url}${request.path}`, err);
    }
  };

  return {
    url,
    send,
    async json(request, schema, jsonOptions = {}) {
      const response = await send(request, jsonOptions.signal);
      if (response.statusCode === 404 && jsonOptions.notFound !== 'error') {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) throw await errorFromResponse(response.statusCode, response.body);
      return readJsonResponse(response.body, {
        schema,
        what: `${request.method} ${url}${request.path}`,
        maxBytes: options.maxResponseBytes,
      });
    },
    async close() {
      if (!pool.closed) await pool.close();
    },
  };
}
