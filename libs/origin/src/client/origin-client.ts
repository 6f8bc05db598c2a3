/**
 * OriginClient (and OriginUploadClient) over HTTP: a keep-alive HTTP pool (`createHttpPool`), blob
 * bodies streamed in both directions, /v1/ error bodies turned back into typed
 * errors. "Not found" is `undefined` or `false`; a failure to reach the origin is a
 * ServiceUnreachableError; a failing upload source surfaces as its own error.
 */
import type { Readable } from 'node:stream';
import { createHttpPool, type HttpResponse } from '@kraken/service-kit';
import type { Digest } from '@kraken/oci-content';
import type { OriginNodeClient } from './client-types.js';
import { upstreamQuery, upstreamTagSchema } from '../upstream/upstream-ref.js';
import { seedAnswerSchema, uploadCreatedSchema, uploadStatusSchema } from '../api/contracts.js';
import { errorFromResponse } from '@kraken/service-kit';
import { invalidResponse, readJsonResponse } from '@kraken/service-kit';
import { readMetainfoResponse } from './metainfo-response.js';
import { RemoteApiError, ServiceUnreachableError, type ClientTlsContext } from '@kraken/service-kit';
import { REPLICA_HEADER } from '../api/replica-header.js';

export interface OriginClientOptions {
  /** Base URL of the origin, e.g. http://127.0.0.1:15002. */
  readonly url: string;
  /** Keep-alive connections held open to the origin (default 16). */
  readonly connections?: number;
  /** Time allowed for response headers once a request is sent, in ms (default 60 s). */
  readonly headersTimeoutMs?: number;
  /** Longest pause between body chunks, in ms (default 60 s). */
  readonly bodyTimeoutMs?: number;
  /**
   * Time allowed for a metainfo answer to start, in ms (default 10 min): the origin
   * hashes the whole blob before it answers a first request.
   */
  readonly metainfoTimeoutMs?: number;
  /** TLS for https:// URLs: the client files (`createClientTls`); the system CAs when absent. */
  readonly tls?: ClientTlsContext | undefined;
}

/** JSON answers of the origin are a few dozen bytes. */
const MAX_JSON_BYTES = 64 * 1024;

type Method = 'HEAD' | 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
interface SendOptions {
  readonly headers?: Record<string, string>;
  readonly body?: Readable;
  readonly signal?: AbortSignal | undefined;
  readonly headersTimeout?: number;
}

export function createOriginClient(options: OriginClientOptions): OriginNodeClient {
  const base = new URL(options.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const pool = createHttpPool(base.origin, {
    connections: options.connections ?? 16,
    headersTimeoutMs: options.headersTimeoutMs ?? 60_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 60_000,
    tls: options.tls,
  });

  const send = async (method: Method, path: string, sendOptions: SendOptions = {}): Promise<HttpResponse> => {
    try {
      return await pool.request({
        method,
        path: `${prefix}${path}`,
        ...(sendOptions.headers === undefined ? {} : { headers: sendOptions.headers }),
        ...(sendOptions.body === undefined ? {} : { body: sendOptions.body }),
        ...(sendOptions.signal === undefined ? {} : { signal: sendOptions.signal }),
        ...(sendOptions.headersTimeout === undefined ? {} : { headersTimeoutMs: sendOptions.headersTimeout }),
      });
    } catch (err) {
      if (sendOptions.signal?.aborted) throw err;
      // The upload source failing is the caller's error, not the origin's.
      const sourceError = sendOptions.body?.errored;
      if (sourceError) throw sourceError;
      throw new ServiceUnreachableError(`${method} ${base.origin}${prefix}${path}`, err);
    }
  };

  /** Sends and returns the response when its status is `ok`, undefined on 404; else throws. */
  const call = async (method: Method, path: string, ok: readonly number[], sendOptions: SendOptions = {}) => {
    const response = await send(method, path, sendOptions);
    if (ok.includes(response.statusCode)) return response;
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    throw await errorFromResponse(response.statusCode, response.body);
  };

  /** Like `call`, for calls where 404 is an error too (the session or route is gone). */
  const callStrict = async (
    method: Method,
    path: string,
    ok: readonly number[],
    sendOptions: SendOptions = {},
  ) => {
    const response = await send(method, path, sendOptions);
    if (ok.includes(response.statusCode)) return response;
    throw await errorFromResponse(response.statusCode, response.body);
  };

  const blobPath = (digest: Digest) => `/v1/blobs/${encodeURIComponent(digest.value)}`;
  const uploadPath = (id: string) => `/v1/uploads/${encodeURIComponent(id)}`;
  const octets = (size: number | undefined): Record<string, string> => ({
    'content-type': 'application/octet-stream',
    ...(size === undefined ? {} : { 'content-length': String(size) }),
  });

  const stat = async (path: string, signal: AbortSignal | undefined) => {
    const response = await call('HEAD', path, [200], { signal });
    if (response === undefined) return undefined;
    await response.body.dump();
    const size = Number(response.headers['content-length']);
    if (!Number.isSafeInteger(size) || size < 0) throw invalidResponse(`HEAD ${path}`, 'no Content-Length');
    return { size };
  };

  return {
    statBlob: (digest, signal) => stat(blobPath(digest), signal),

    statUpstream: (digest, ref, signal) => stat(blobPath(digest) + upstreamQuery(ref), signal),

    async resolveUpstreamTag(registry, repository, tag, signal) {
      const query = new URLSearchParams({ repository, tag });
      const path = `/v1/upstreams/${encodeURIComponent(registry)}/tags?${query.toString()}`;
      const response = await send('GET', path, { signal });
      if (response.statusCode === 200)
        return readJsonResponse(response.body, {
          schema: upstreamTagSchema,
          what: `GET ${path}`,
          maxBytes: MAX_JSON_BYTES,
        });
      const error = await errorFromResponse(response.statusCode, response.body);
      if (error.code === 'KRAKEN_UPSTREAM_TAG_NOT_FOUND') return undefined;
      throw error;
    },

    async getBlob(digest, getOptions = {}) {
      const { range, signal, upstream } = getOptions;
      const path = blobPath(digest) + (upstream === undefined ? '' : upstreamQuery(upstream));
      const response = await call('GET', path, [range === undefined ? 200 : 206], {
        signal,
        ...(range === undefined ? {} : { headers: { range: `bytes=${range.start}-${range.end}` } }),
      });
      return response?.body;
    },

    async putBlob(digest, body, putOptions = {}) {
      const query =
        putOptions.namespace === undefined ? '' : `?namespace=${encodeURIComponent(putOptions.namespace)}`;
      const response = await callStrict('PUT', `${blobPath(digest)}${query}`, [201], {
        body: typeof body === 'function' ? body() : body,
        headers: {
          ...octets(putOptions.size),
          ...(putOptions.replica === true ? { [REPLICA_HEADER]: '1' } : {}),
        },
        signal: putOptions.signal,
      });
      await response.body.dump();
    },

    async getMetainfo(digest, signal) {
      const path = `${blobPath(digest)}/metainfo`;
      const response = await call('GET', path, [200], {
        signal,
        headersTimeout: options.metainfoTimeoutMs ?? 600_000,
      });
      if (response === undefined) return undefined;
      return readMetainfoResponse(response.body, { digest, what: `GET ${path}` });
    },

    async seedBlob(digest, signal) {
      const path = `${blobPath(digest)}/seed`;
      const response = await call('POST', path, [200], {
        signal,
        headersTimeout: options.metainfoTimeoutMs ?? 600_000,
      });
      if (response === undefined) return undefined;
      const answer = await readJsonResponse(response.body, {
        schema: seedAnswerSchema,
        what: `POST ${path}`,
        maxBytes: MAX_JSON_BYTES,
      });
      const unspecified = answer.host === '0.0.0.0' || answer.host === '::';
      // URL hostnames keep IPv6 brackets; peer addresses do not.
      return unspecified ? { ...answer, host: base.hostname.replace(/^\[|\]$/g, '') } : answer;
    },

    async deleteBlob(digest) {
      const response = await call('DELETE', blobPath(digest), [202]);
      await response?.body.dump();
      return response !== undefined;
    },

    async createUpload(signal) {
      const response = await callStrict('POST', '/v1/uploads', [201], { signal });
      return (
        await readJsonResponse(response.body, {
          schema: uploadCreatedSchema,
          what: 'POST /v1/uploads',
          maxBytes: MAX_JSON_BYTES,
        })
      ).uploadId;
    },

    async uploadChunk(uploadId, body, chunk) {
      const path = uploadPath(uploadId);
      const response = await callStrict('PATCH', path, [202], {
        body,
        headers: { ...octets(chunk.size), 'upload-offset': String(chunk.start) },
        signal: chunk.signal,
      });
      return (
        await readJsonResponse(response.body, {
          schema: uploadStatusSchema,
          what: `PATCH ${path}`,
          maxBytes: MAX_JSON_BYTES,
        })
      ).offset;
    },

    async uploadOffset(uploadId, signal) {
      const path = uploadPath(uploadId);
      const response = await call('GET', path, [200], { signal });
      return response === undefined
        ? undefined
        : (
            await readJsonResponse(response.body, {
              schema: uploadStatusSchema,
              what: `GET ${path}`,
              maxBytes: MAX_JSON_BYTES,
            })
          ).offset;
    },

    async commitUpload(uploadId, digest, signal) {
      const path = `${uploadPath(uploadId)}?digest=${encodeURIComponent(digest.value)}`;
      const response = await callStrict('PUT', path, [201], { signal });
      await response.body.dump();
    },

    async cancelUpload(uploadId) {
      const response = await call('DELETE', uploadPath(uploadId), [204]);
      await response?.body.dump();
      return response !== undefined;
    },

    async ping(signal) {
      const response = await send('GET', '/readiness', { signal });
      if (response.statusCode === 200) {
        await response.body.dump();
        return;
      }
      const err = await errorFromResponse(response.statusCode, response.body);
      throw new RemoteApiError('KRAKEN_NOT_READY', `origin ${base.origin} is not ready: ${err.message}`, {
        statusCode: 503,
      });
    },

    async close() {
      if (!pool.closed) await pool.close();
    },
  };
}
