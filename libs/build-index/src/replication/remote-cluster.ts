/**
 * The destination clusters of the rules: for each destination, its cluster id, its
 * origin ring (where blobs are copied to), its build-index nodes (manifest records,
 * changes, listings), all with the ring clients the rest of the product uses, so
 * requests fail over between the remote's nodes and follow their health.
 *
 * A destination is one address (`discover`: its `GET /v1/replication/cluster` names
 * the rest) or explicit rings; either way the remote is asked for its cluster id,
 * which loop prevention needs. What a destination resolved to is kept for
 * `refreshMs` and then asked again; while the remote cannot be asked, the last answer
 * keeps serving. One RemoteCluster per destination key is shared by every rule that
 * points at it.
 */
import {
  FailoverExhaustedError,
  createLiveRing,
  createNodeClients,
  createRingConfigSchema,
  runWithFailover,
  type NodeClients,
} from '@kraken/hashring';
import { createOriginRingClient, type OriginClient } from '@kraken/origin';
import type { Logger, ClientTlsContext } from '@kraken/service-kit';
import type { BuildIndexClient } from '../client/client-types.js';
import { createBuildIndexClusterClient } from '../client/cluster-client.js';
import type { ChangeResult, ClusterDescriptor, TagChange, VersionedTagList } from './change-protocol.js';
import { destinationKey, type ReplicationDestination } from './rule-config.js';
import {
  createRemoteReplicationClient,
  isRetryableRemoteError,
  type RemoteReplicationClient,
} from './remote-client.js';

/** A destination as it resolved: what a task needs to copy into it. */
export interface ResolvedRemote {
  readonly descriptor: ClusterDescriptor;
  readonly origins: Pick<OriginClient, 'statBlob' | 'putBlob'>;
  readonly buildIndex: Pick<BuildIndexClient, 'getManifest' | 'putManifest'>;
  /** Sends a change to the remote node that owns the repository, failing over to the others. */
  putChange(change: TagChange, signal?: AbortSignal): Promise<ChangeResult>;
  listTags(repository: string, signal?: AbortSignal): Promise<VersionedTagList | undefined>;
}

export interface RemoteCluster {
  readonly key: string;
  resolve(): Promise<ResolvedRemote>;
  /** The last resolution, if any (for enqueue-time loop checks and status). */
  known(): ClusterDescriptor | undefined;
}

export interface RemoteClusters {
  get(destination: ReplicationDestination): RemoteCluster;
  /** Closes the remotes no rule points at any more. */
  retain(keys: ReadonlySet<string>): void;
  close(): Promise<void>;
}

export interface RemoteClustersOptions {
  readonly logger: Logger;
  /** Time a remote request may take to answer, and each pause in a body (ms). */
  readonly timeoutMs: number;
  /** How long a resolution is trusted before the remote is asked again (ms). */
  readonly refreshMs: number;
  /** Wall-clock ms. */
  readonly now: () => number;
  /** TLS to the destinations' nodes: the client files (`createClientTls`). */
  readonly tls?: ClientTlsContext | undefined;
}

const originRingConfig = createRingConfigSchema({ healthPath: '/readiness' });
const buildIndexRingConfig = createRingConfigSchema({ healthPath: '/health' });

interface Connected {
  readonly resolved: ResolvedRemote;
  readonly fingerprint: string;
  close(): Promise<void>;
}

export function createRemoteClusters(options: RemoteClustersOptions): RemoteClusters {
  const remotes = new Map<string, { remote: RemoteCluster; close(): Promise<void> }>();
  const log = options.logger.child({ component: 'replication-remote' });
  const tls = options.tls;

  const connect = async (descriptor: ClusterDescriptor): Promise<Connected> => {
    const originRing = createLiveRing(
      originRingConfig.parse({ nodes: descriptor.origins.nodes, replicas: descriptor.origins.replicas }),
      { logger: log, tls },
    );
    const biRing = createLiveRing(buildIndexRingConfig.parse({ nodes: descriptor.buildIndex, replicas: 1 }), {
      logger: log,
      tls,
    });
    await Promise.all([originRing.start(), biRing.start()]);
    const origins = createOriginRingClient({
      ring: originRing,
      headersTimeoutMs: options.timeoutMs,
      bodyTimeoutMs: options.timeoutMs,
      tls,
    });
    const buildIndex = createBuildIndexClusterClient({
      ring: biRing,
      headersTimeoutMs: options.timeoutMs,
      tls,
    });
    const clients: NodeClients<RemoteReplicationClient> = createNodeClients(biRing, (node) =>
      createRemoteReplicationClient({ url: node.url, timeoutMs: options.timeoutMs, tls }),
    );
    const onNodes = async <T>(
      repository: string,
      fn: (client: RemoteReplicationClient, signal: AbortSignal | undefined) => Promise<T>,
      signal: AbortSignal | undefined,
    ): Promise<T> => {
      try {
        const result = await runWithFailover(
          biRing,
          repository,
          (node, attempt) => fn(clients.get(node), attempt.signal),
          {
            retries: Math.max(0, biRing.members().length - 1),
            isRetryable: isRetryableRemoteError,
            ...(signal === undefined ? {} : { signal }),
          },
        );
        return result.value;
      } catch (err) {
        // Every node failed: what the last one said is what the status should show.
        if (err instanceof FailoverExhaustedError && err.attempts.length > 0) {
          const reasons = err.attempts.map(
            (a) => `${a.nodeId}: ${(a.error as Error)?.message ?? String(a.error)}`,
          );
          throw new Error(`every build-index of the destination failed: ${reasons.join('; ')}`, {
            cause: err,
          });
        }
        throw err;
      }
    };
    return {
      fingerprint: JSON.stringify(descriptor),
      resolved: {
        descriptor,
        origins,
        buildIndex,
        putChange: (change, signal) => onNodes(change.repository, (c, s) => c.putChange(change, s), signal),
        listTags: (repository, signal) => onNodes(repository, (c, s) => c.listTags(repository, s), signal),
      },
      async close() {
        await Promise.allSettled([origins.close(), buildIndex.close(), clients.close()]);
        originRing.close();
        biRing.close();
      },
    };
  };

  const build = (destination: ReplicationDestination) => {
    const key = destinationKey(destination);
    const askAt =
      destination.discover !== undefined ? [destination.discover] : (destination.buildIndex ?? []);
    let current: Connected | undefined;
    let resolvedAt = 0;
    let resolving: Promise<ResolvedRemote> | undefined;
    const retired: Connected[] = [];

    /** Asks the destination to describe itself, trying each address in turn. */
    const describe = async (signal: AbortSignal | undefined): Promise<ClusterDescriptor> => {
      let lastError: unknown;
      for (const url of askAt) {
        const client = createRemoteReplicationClient({
          url,
          timeoutMs: options.timeoutMs,
          connections: 1,
          tls,
        });
        try {
          const described = await client.describe(signal);
          if (destination.discover !== undefined) return described;
          // Explicit rings win; the remote only tells who it is.
          return {
            clusterId: described.clusterId,
            buildIndex: destination.buildIndex ?? described.buildIndex,
            origins: destination.origins ?? described.origins,
          };
        } catch (err) {
          lastError = err;
        } finally {
          await client.close();
        }
      }
      throw lastError;
    };

    const refresh = async (signal: AbortSignal | undefined): Promise<ResolvedRemote> => {
      let descriptor: ClusterDescriptor;
      try {
        descriptor = await describe(signal);
      } catch (err) {
        if (current !== undefined) {
          log.debug(
            { err, destination: key },
            'describing the destination failed; its last description serves',
          );
          return current.resolved;
        }
        throw err;
      }
      resolvedAt = options.now();
      if (current !== undefined && current.fingerprint === JSON.stringify(descriptor))
        return current.resolved;
      // Tasks in flight keep the old clients until close.
      if (current !== undefined) retired.push(current);
      current = await connect(descriptor);
      log.info({ destination: key, cluster: descriptor.clusterId }, 'replication destination resolved');
      return current.resolved;
    };

    const remote: RemoteCluster = {
      key,
      known: () => current?.resolved.descriptor,
      resolve() {
        if (current !== undefined && options.now() - resolvedAt < options.refreshMs)
          return Promise.resolve(current.resolved);
        // Shared by every caller, so no one caller's signal may cancel it; timeouts bound it.
        resolving ??= refresh(undefined).finally(() => {
          resolving = undefined;
        });
        return resolving;
      },
    };
    return {
      remote,
      async close() {
        await resolving?.catch(() => {});
        await Promise.all([current, ...retired].map((c) => c?.close()));
      },
    };
  };

  return {
    get(destination) {
      const key = destinationKey(destination);
      let entry = remotes.get(key);
      if (entry === undefined) {
        entry = build(destination);
        remotes.set(key, entry);
      }
      return entry.remote;
    },
    retain(keys) {
      for (const [key, entry] of remotes) {
        if (keys.has(key)) continue;
        remotes.delete(key);
        void entry.close();
      }
    },
    async close() {
      const all = [...remotes.values()];
      remotes.clear();
      await Promise.all(all.map((entry) => entry.close()));
    },
  };
}
