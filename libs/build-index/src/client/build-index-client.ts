/**
 * BuildIndexClient over HTTP: a keep-alive HTTP pool (`createHttpPool`), responses validated with the
 * shared zod contracts, /v1/ error bodies turned back into typed errors (409 refusals
 * into TagRejectedError / ManifestRejectedError with the missing digests). "Not found"
 * is `undefined` or `false`, never an exception.
 */
import { createHttpPool, type HttpResponse } from '@kraken/service-kit';
import { parseDigest } from '@kraken/oci-content';
import type { z } from 'zod';
import type { BuildIndexClient } from './client-types.js';
import {
  REPLICATED_FROM_HEADER,
  manifestRecordSchema,
  referrerListSchema,
  repositoryListSchema,
  tagListSchema,
  tagValueSchema,
} from '../contracts.js';
import { errorFromResponse } from '@kraken/service-kit';
import { RemoteApiError, ServiceUnreachableError, type ClientTlsContext } from '@kraken/service-kit';
import { readJsonResponse } from '@kraken/service-kit';
import { ManifestRejectedError, TagRejectedError } from '../errors.js';

export interface BuildIndexClientOptions {
  /** Base URL of the build-index, e.g. http://127.0.0.1:15004. */
  readonly url: string;
  /** Keep-alive connections held open to the build-index (default 16). */
  readonly connections?: number;
  /** Time allowed for response headers, in ms (default 30 s): a tag write checks the origins first. */
  readonly headersTimeoutMs?: number;
  /** Longest pause between body chunks, in ms (default 30 s). */
  readonly bodyTimeoutMs?: number;
  /** TLS for https:// URLs: the client files (`createClientTls`); the system CAs when absent. */
  readonly tls?: ClientTlsContext | undefined;
}

/** Tag lists of big repositories are the largest legitimate responses. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

type Method = 'GET' | 'PUT' | 'DELETE';
interface SendOptions {
  readonly body?: unknown;
  readonly query?: { n?: number; last?: string };
  readonly signal?: AbortSignal | undefined;
  readonly headers?: Record<string, string>;
}

export function createBuildIndexClient(options: BuildIndexClientOptions): BuildIndexClient {
  const base = new URL(options.url);
  const pool = createHttpPool(base.origin, {
    connections: options.connections ?? 16,
    headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
    tls: options.tls,
  });
  const prefix = base.pathname.replace(/\/+$/, '');

  const send = async (method: Method, path: string, sendOptions: SendOptions = {}): Promise<HttpResponse> => {
    const query = new URLSearchParams();
    if (sendOptions.query?.n !== undefined) query.set('n', String(sendOptions.query.n));
    if (sendOptions.query?.last !== undefined) query.set('last', sendOptions.query.last);
    const qs = query.size > 0 ? `?${query.toString()}` : '';
    try {
      return await pool.request({
        method,
        path: `${prefix}${path}${qs}`,
        ...(sendOptions.body !== undefined
          ? {
              body: JSON.stringify(sendOptions.body),
              headers: { 'content-type': 'application/json', ...sendOptions.headers },
            }
          : {}),
        ...(sendOptions.signal ? { signal: sendOptions.signal } : {}),
      });
    } catch (err) {
      if (sendOptions.signal?.aborted) throw err;
      throw new ServiceUnreachableError(`${base.origin}${prefix}${path}`, err);
    }
  };

  /** The body of an `ok` response, undefined on 404 (body drained); other statuses throw. */
  const request = async (method: Method, path: string, ok: number, sendOptions: SendOptions = {}) => {
    const response = await send(method, path, sendOptions);
    if (response.statusCode === ok) return response.body;
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    throw typed(await errorFromResponse(response.statusCode, response.body));
  };

  const getJson = async <T>(
    path: string,
    schema: z.ZodType<T>,
    sendOptions: SendOptions = {},
  ): Promise<T | undefined> => {
    const body = await request('GET', path, 200, sendOptions);
    return body === undefined
      ? undefined
      : readJsonResponse(body, { schema, what: `GET ${path}`, maxBytes: MAX_RESPONSE_BYTES });
  };

  /** True on `ok`, false on 404. */
  const exchange = async (
    method: Method,
    path: string,
    ok: number,
    sendOptions: SendOptions = {},
  ): Promise<boolean> => {
    const body = await request(method, path, ok, sendOptions);
    if (body === undefined) return false;
    await body.dump();
    return true;
  };

  const repoPath = (repo: string) => `/v1/repositories/${encodeURIComponent(repo)}`;
  const tagPath = (repo: string, tag: string) => `${repoPath(repo)}/tags/${encodeURIComponent(tag)}`;
  const manifestPath = (repo: string, digest: string) =>
    `${repoPath(repo)}/manifests/${encodeURIComponent(digest)}`;

  return {
    async getTag(repo, tag, signal) {
      const value = await getJson(tagPath(repo, tag), tagValueSchema, { signal });
      return value === undefined ? undefined : parseDigest(value.digest);
    },

    async putTag(repo, tag, digest) {
      const path = tagPath(repo, tag);
      // Here 404 cannot mean "no such tag": the route itself is missing.
      if (!(await exchange('PUT', path, 200, { body: { digest: digest.value } })))
        throw unexpected404(`PUT ${path}`);
    },

    async deleteTag(repo, tag) {
      return exchange('DELETE', tagPath(repo, tag), 204);
    },

    async listTags(repo, page) {
      const value = await getJson(`${repoPath(repo)}/tags`, tagListSchema, page ? { query: page } : {});
      return value?.tags;
    },

    async listRepositories(page) {
      const path = '/v1/repositories';
      const value = await getJson(path, repositoryListSchema, page ? { query: page } : {});
      if (value === undefined) throw unexpected404(`GET ${path}`);
      return value.repositories;
    },

    async getManifest(repo, digest, signal) {
      return getJson(manifestPath(repo, digest.value), manifestRecordSchema, { signal });
    },

    async putManifest(repo, record, putOptions) {
      const path = manifestPath(repo, record.digest);
      const from = putOptions?.replicatedFrom;
      const headers = from === undefined ? {} : { headers: { [REPLICATED_FROM_HEADER]: from } };
      if (!(await exchange('PUT', path, 200, { body: record, ...headers })))
        throw unexpected404(`PUT ${path}`);
    },

    async deleteManifest(repo, digest) {
      return exchange('DELETE', manifestPath(repo, digest.value), 204);
    },

    async listReferrers(repo, digest) {
      const path = `${repoPath(repo)}/referrers/${encodeURIComponent(digest.value)}`;
      const value = await getJson(path, referrerListSchema);
      if (value === undefined) throw unexpected404(`GET ${path}`);
      return value.manifests;
    },

    async ping(signal) {
      const response = await send('GET', '/readiness', { signal });
      await response.body.dump();
      if (response.statusCode !== 200) {
        throw new RemoteApiError(
          'KRAKEN_NOT_READY',
          `build-index ${base.origin} is not ready (HTTP ${response.statusCode})`,
          {
            statusCode: 503,
          },
        );
      }
    },

    async close() {
      if (!pool.closed) await pool.close();
    },
  };
}

/** Turns the 409 refusals into their typed errors; other codes stay RemoteApiError. */
function typed(err: RemoteApiError): Error {
  if (
    err.statusCode === 409 &&
    (err.code === 'KRAKEN_TAG_REJECTED' || err.code === 'KRAKEN_MANIFEST_REJECTED')
  ) {
    const missing = (err.detail as { missing?: unknown } | undefined)?.missing;
    const digests = Array.isArray(missing) ? missing.filter((d): d is string => typeof d === 'string') : [];
    return err.code === 'KRAKEN_TAG_REJECTED'
      ? new TagRejectedError(err.message, digests)
      : new ManifestRejectedError(err.message, digests);
  }
  return err;
}

function unexpected404(what: string): RemoteApiError {
  return new RemoteApiError('KRAKEN_HTTP_404', `${what}: unexpected HTTP 404`, { statusCode: 404 });
}
