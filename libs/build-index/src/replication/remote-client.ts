/**
 * The client of one build-index node of another cluster, for what replication asks
 * of it beyond the ordinary /v1/ API: apply a change, list a repository's tags with
 * their versions, and describe its cluster. Answers are bounded and validated with
 * the shared contract (change-protocol.ts); a 409 refusal becomes TagRejectedError
 * with the missing digests, an unreachable node a ServiceUnreachableError.
 */
import type { z } from 'zod';
import {
  createJsonApiClient,
  RemoteApiError,
  ServiceUnreachableError,
  type JsonApiRequest,
  type ClientTlsContext,
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
  /** TLS for https:// URLs: the client files (`createClientTls`); the system CAs when absent. */
  readonly tls?: ClientTlsContext | undefined;
}

/** Tag listings of big repositories are the largest answers. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export function createRemoteReplicationClient(
  options: RemoteReplicationClientOptions,
): RemoteReplicationClient {
  const api = createJsonApiClient({
    url: options.url,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    tls: options.tls,
  });

  /** The answer, with a refused change as TagRejectedError; 404 is an error unless listed. */
  const json = async <T>(
    request: JsonApiRequest,
    schema: z.ZodType<T>,
    signal: AbortSignal | undefined,
    notFound: 'undefined' | 'error',
  ): Promise<T | undefined> => {
    try {
      return await api.json(request, schema, { signal, notFound });
    } catch (err) {
      throw err instanceof RemoteApiError ? typed(err) : err;
    }
  };

  return {
    url: api.url,
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
    close: () => api.close(),
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
