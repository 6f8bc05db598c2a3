/**
 * The client one build-index node uses to reach a peer: push a replicated tag write
 * or delete, and read what the anti-entropy sweep compares (the repository catalog,
 * a repository's tag values, manifest records). Answers are bounded and validated
 * against the shared schemas; failures to connect become ServiceUnreachableError.
 */
import { z } from 'zod';
import { manifestRecordSchema, repositoryListSchema, type ManifestRecord } from '../contracts.js';
import {
  createJsonApiClient,
  RemoteApiError,
  type JsonApiRequest,
  type ClientTlsContext,
} from '@kraken/service-kit';
import {
  replicaApplyResultSchema,
  replicaTagListSchema,
  type ReplicaApplyResult,
  type ReplicaTagList,
  type ReplicaTagPut,
  type ReplicaTombstone,
} from './replica-protocol.js';

export interface BuildIndexReplicaClientOptions {
  /** Base URL of the peer, e.g. http://127.0.0.1:15005. */
  readonly url: string;
  /** Keep-alive connections to the peer (default 4). */
  readonly connections?: number;
  /** Time allowed for an answer to start, and each pause in its body (ms, default 5 s). */
  readonly timeoutMs?: number;
  /** TLS for https:// URLs: the client files (`createClientTls`); the system CAs when absent. */
  readonly tls?: ClientTlsContext | undefined;
}

export interface BuildIndexReplicaClient {
  readonly url: string;
  putTag(repo: string, tag: string, put: ReplicaTagPut, signal?: AbortSignal): Promise<ReplicaApplyResult>;
  /** Pushes a deletion; true when it changed anything on the peer. */
  deleteTag(repo: string, tag: string, tombstone: ReplicaTombstone, signal?: AbortSignal): Promise<boolean>;
  /** The repository's tag values and tombstones; undefined when the peer does not know it. */
  listTagValues(repo: string, signal?: AbortSignal): Promise<ReplicaTagList | undefined>;
  listRepositories(page: { n: number; last?: string }, signal?: AbortSignal): Promise<string[]>;
  getManifest(repo: string, digest: string, signal?: AbortSignal): Promise<ManifestRecord | undefined>;
  close(): Promise<void>;
}

const replicaDeleteResultSchema = z.object({ applied: z.boolean() }).strict();

/** Tag listings of big repositories are the largest answers. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export function createBuildIndexReplicaClient(
  options: BuildIndexReplicaClientOptions,
): BuildIndexReplicaClient {
  const api = createJsonApiClient({
    url: options.url,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    tls: options.tls,
  });
  /** The validated answer on 200, undefined on 404; anything else throws. */
  const json = <T>(request: JsonApiRequest, schema: z.ZodType<T>, signal: AbortSignal | undefined) =>
    api.json(request, schema, { signal });

  const repoPath = (repo: string) => `/v1/repositories/${encodeURIComponent(repo)}`;
  const replicaRepoPath = (repo: string) => `/v1/replica/repositories/${encodeURIComponent(repo)}`;
  const replicaTagPath = (repo: string, tag: string) =>
    `${replicaRepoPath(repo)}/tags/${encodeURIComponent(tag)}`;

  return {
    url: api.url,

    async putTag(repo, tag, put, signal) {
      const path = replicaTagPath(repo, tag);
      const result = await json({ method: 'PUT', path, body: put }, replicaApplyResultSchema, signal);
      // Here 404 cannot mean "no such tag": the peer does not serve replication.
      if (result === undefined)
        throw new RemoteApiError('KRAKEN_HTTP_404', `PUT ${path}: unexpected HTTP 404`, { statusCode: 404 });
      return result;
    },

    async deleteTag(repo, tag, tombstone, signal) {
      const query = new URLSearchParams({ deletedAt: tombstone.deletedAt });
      if (tombstone.version !== undefined) query.set('version', tombstone.version);
      const path = `${replicaTagPath(repo, tag)}?${query.toString()}`;
      const result = await json({ method: 'DELETE', path }, replicaDeleteResultSchema, signal);
      if (result === undefined)
        throw new RemoteApiError('KRAKEN_HTTP_404', `DELETE ${path}: unexpected HTTP 404`, {
          statusCode: 404,
        });
      return result.applied;
    },

    async listTagValues(repo, signal) {
      const path = `${replicaRepoPath(repo)}/tags`;
      return json({ method: 'GET', path }, replicaTagListSchema, signal);
    },

    async listRepositories(page, signal) {
      const query = new URLSearchParams({ n: String(page.n) });
      if (page.last !== undefined) query.set('last', page.last);
      const path = `/v1/repositories?${query.toString()}`;
      return (await json({ method: 'GET', path }, repositoryListSchema, signal))?.repositories ?? [];
    },

    async getManifest(repo, digest, signal) {
      const path = `${repoPath(repo)}/manifests/${encodeURIComponent(digest)}`;
      return json({ method: 'GET', path }, manifestRecordSchema, signal);
    },

    close: () => api.close(),
  };
}
