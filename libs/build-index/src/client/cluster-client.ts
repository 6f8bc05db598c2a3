/**
 * A BuildIndexClient over a cluster of build-index nodes that all hold every tag.
 * Requests are keyed by repository on the hash ring, so one repository's writes and
 * reads go to the same node while it is healthy (the pusher reads its own write even
 * before replication settles), and fail over down the ring when it is not. A tag that
 * one node does not know is looked up on the others before it counts as missing: a
 * node that was down may not have caught up yet.
 *
 * Only failures of a node (unreachable, 5xx, 429) move a request on; a refusal (bad
 * name, missing content) would be the same on every node.
 */
import {
  createNodeClients,
  runWithFailover,
  failoverOrder,
  type FailoverRing,
  type MembershipListener,
  type RingNode,
} from '@kraken/hashring';
import type { BuildIndexClient } from './client-types.js';
import { createBuildIndexClient } from './build-index-client.js';
import { RemoteApiError, ServiceUnreachableError, type ClientTlsContext } from '@kraken/service-kit';

/** What the client needs of the ring; a LiveRing fits. */
export interface BuildIndexRing extends FailoverRing {
  members(): readonly { readonly id: string }[];
  watchMembers?(listener: MembershipListener): () => void;
}

export interface BuildIndexClusterClientOptions {
  readonly ring: BuildIndexRing;
  /** Keep-alive connections per node (default 8). */
  readonly connections?: number;
  /** Time allowed for response headers, in ms (default 30 s): a tag write checks the origins first. */
  readonly headersTimeoutMs?: number;
  /** TLS to the nodes: the client files (`createClientTls`). */
  readonly tls?: ClientTlsContext | undefined;
  /** Builds the client of one node; tests inject their own. */
  readonly clientFor?: (url: string) => BuildIndexClient;
}

/** The ring key of requests that belong to no repository. */
const CATALOG_KEY = '/v1/repositories';

export function createBuildIndexClusterClient(options: BuildIndexClusterClientOptions): BuildIndexClient {
  const { ring } = options;
  const build =
    options.clientFor ??
    ((url: string) =>
      createBuildIndexClient({
        url,
        connections: options.connections ?? 8,
        ...(options.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: options.headersTimeoutMs }),
        tls: options.tls,
      }));
  let closed = false;

  // One client per member; one that left the ring keeps no idle sockets open.
  const clients = createNodeClients(ring, (node) => build(node.url));
  const clientOf = (node: RingNode): BuildIndexClient => clients.get(node);

  const run = async <T>(
    key: string,
    fn: (client: BuildIndexClient, signal?: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ) => {
    const result = await runWithFailover(ring, key, (node, attempt) => fn(clientOf(node), attempt.signal), {
      retries: Math.max(0, ring.members().length - 1),
      isRetryable,
      ...(signal === undefined ? {} : { signal }),
    });
    return result;
  };

  return {
    async getTag(repo, tag, signal) {
      const { value, node } = await run(repo, (c, s) => c.getTag(repo, tag, s), signal);
      if (value !== undefined) return value;
      for (const other of failoverOrder(ring, repo)) {
        if (other.id === node.id) continue;
        signal?.throwIfAborted();
        try {
          const found = await clientOf(other).getTag(repo, tag, signal);
          ring.reportSuccess(other.id);
          if (found !== undefined) return found;
        } catch (err) {
          if (signal?.aborted) throw err;
          if (isRetryable(err)) ring.reportFailure(other.id, err);
        }
      }
      return undefined;
    },
    putTag: async (repo, tag, digest) => void (await run(repo, (c) => c.putTag(repo, tag, digest))),
    deleteTag: async (repo, tag) => (await run(repo, (c) => c.deleteTag(repo, tag))).value,
    listTags: async (repo, page) => (await run(repo, (c) => c.listTags(repo, page))).value,
    listRepositories: async (page) => (await run(CATALOG_KEY, (c) => c.listRepositories(page))).value,
    getManifest: async (repo, digest, signal) =>
      (await run(repo, (c, s) => c.getManifest(repo, digest, s), signal)).value,
    putManifest: async (repo, record, options) =>
      void (await run(repo, (c) => c.putManifest(repo, record, options))),
    deleteManifest: async (repo, digest) => (await run(repo, (c) => c.deleteManifest(repo, digest))).value,
    listReferrers: async (repo, digest) => (await run(repo, (c) => c.listReferrers(repo, digest))).value,

    // Ready when any node is: one node serves every tag.
    async ping(signal) {
      await run(CATALOG_KEY, (c, s) => c.ping(s), signal);
    },

    async close() {
      if (closed) return;
      closed = true;
      await clients.close();
    },
  };
}

function isRetryable(error: unknown): boolean {
  if (error instanceof ServiceUnreachableError) return true;
  if (error instanceof RemoteApiError) {
    const status = error.statusCode ?? 500;
    return status >= 500 || status === 429;
  }
  return false;
}
