/**
 * The client of one build-index node of another cluster, for what replication asks
 * of it beyond the ordinary /v1/ API: apply a change, list a repository's tags with
 * their versions, and describe its cluster. Answers are bounded and validated with
 * the shared contract (change-protocol.ts); a 409 refusal becomes TagRejectedError
 * with the missing digests, an unreachable node a ServiceUnreachableError.
 */
import { Pool, type Dispatcher } from 'undici';
import type { z } from 'zod';
import {
  errorFromResponse,
  readJsonResponse,
  RemoteApiError,
  ServiceUnreachableError,
} from '@kraken/service-kit';
import { TagRejectedError } from '../errors.js';
import {
  changeResultSchema,
  clusterDescriptorSchema,
  versionedTagListSchema,
  type ChangeResult,
  type ClusterDescriptor,
  type TagChange,
  type VersionedTagList,
} from './change-protocol.js';

export interface RemoteReplicationClient {
  readonly url: string;
  describe(signal?: AbortSignal): Promise<ClusterDescriptor>;
  putChange(change: TagChange, signal?: AbortSignal): Promise<ChangeResult>;
  /** The repository's tags and tombstones with versions; undefined when the remote does not know it. */
  listTags(repository: string, signal?: AbortSignal): Promise<VersionedTagList | undefined>;
  close(): Promise<void>;
}

export interface RemoteReplicationClientOptions {
  readonly url: string;
  /** Time allowed for an answer to start, and each pause in its body (ms). */
  readonly timeoutMs: number;
  readonly connections?: number;
}

/** Tag listings of big repositories are the largest answers. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export function createRemoteReplicationClient(
  options: RemoteReplicationClientOptions,
): RemoteReplicationClient {
  const base = new URL(options.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 4,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });

  const send = async (
    request: { method: 'GET' | 'PUT'; path: string; body?: unknown },
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> => {
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
      throw new ServiceUnreachableError(`${request.method} ${base.origin}${prefix}${request.path}`, err);
    }
  };

  const json = async <T>(
    request: { method: 'GET' | 'PUT'; path: string; body?: unknown },
    schema: z.ZodType<T>,
    signal: AbortSignal | undefined,
    notFound: 'undefined' | 'error',
  ): Promise<T | undefined> => {
    const response = await send(request, signal);
    if (response.statusCode === 404 && notFound === 'undefined') {
      await response.body.dump();
      return undefined;
    }
    if (response.statusCode !== 200) throw typed(await errorFromResponse(response.statusCode, response.body));
    return readJsonResponse(response.body, {
      schema,
      what: `${request.method} ${base.origin}${prefix}${request.path}`,
      maxBytes: MAX_RESPONSE_BYTES,
    });
  };

  return {
    url: base.origin + prefix,
    async describe(signal) {
      const path = '/v1/replication/cluster';
      return (await json(
        { method: 'GET', path },
        clusterDescriptorSchema,
        signal,
        'error',
      )) as ClusterDescriptor;
    },
    async putChange(change, signal) {
      const path = '/v1/replication/changes';
      return (await json(
        { method: 'PUT', path, body: change },
        changeResultSchema,
        signal,
        'error',
      )) as ChangeResult;
    },
    async listTags(repository, signal) {
      const path = `/v1/replication/tags/${encodeURIComponent(repository)}`;
      return json({ method: 'GET', path }, versionedTagListSchema, signal, 'undefined');
    },
    async close() {
      if (!pool.closed) await pool.close();
    },
  };
}

/** A refusal of a change as its typed error; other errors stay as they are. */
function typed(err: RemoteApiError): Error {
  if (err.statusCode === 409 && err.code === 'KRAKEN_TAG_REJECTED') {
    const missing = (err.detail as { missing?: unknown } | undefined)?.missing;
    const digests = Array.isArray(missing) ? missing.filter((d): d is string => typeof d === 'string') : [];
    return new TagRejectedError(`the destination refused the tag: ${err.message}`, digests);
  }
  return err;
}

/** Whether another node of the remote cluster may answer differently: only node failures. */
export function isRetryableRemoteError(error: unknown): boolean {
  if (error instanceof ServiceUnreachableError) return true;
  if (error instanceof RemoteApiError) {
    const status = error.statusCode ?? 500;
    return status >= 500 || status === 429;
  }
  return false;
}
