/**
 * The origins as one client, over their hash ring. Each blob lives on its `replicas`
 * owners (the top of the digest's rendezvous order), and every client computes the
 * same order, so:
 *
 * - reads ask the owners in order, healthy ones first, moving on after an error or a
 *   404 (an owner that was down during a push may lack a blob its co-owners hold);
 *   a body that breaks off resumes from another owner at the same offset;
 * - writes go to the first healthy owner, which stores the blob and copies it to the
 *   other owners before it answers (replication/replication.ts); an upload that fails is
 *   sent again, freshly opened, to the next node;
 * - seeding asks every healthy owner, so a swarm has more than one origin to lose;
 * - chunked uploads stay on the origin that opened them (client/ring-uploads.ts).
 */
import { Readable } from 'node:stream';
import { FailoverExhaustedError, createNodeClients, runWithFailover, type RingNode } from '@kraken/hashring';
import type { Digest } from '@kraken/oci-content';
import type {
  OriginNodeClient,
  OriginRing,
  OriginClient,
  OriginMetainfoClient,
  OriginSeedClient,
  OriginUploadClient,
  OriginUpstreamClient,
  SeedAnswer,
} from './client-types.js';
import { RemoteApiError, type ClientTlsContext } from '@kraken/service-kit';
import { KrakenError, type ErrorCode } from '@kraken/foundation';

const UPSTREAM_FAILED: ErrorCode = 'KRAKEN_UPSTREAM_UNAVAILABLE';
import { createOriginClient } from './origin-client.js';
import { findOnOwners, isRetryableOriginError } from './owner-walk.js';
import { createResumingRead } from './resuming-read.js';
import { createRingUploads } from './ring-uploads.js';

export interface OriginRingClientOptions {
  readonly ring: OriginRing;
  /** Keep-alive connections per origin (default 16). */
  readonly connections?: number;
  /** Time allowed for response headers, in ms (default 60 s). */
  readonly headersTimeoutMs?: number;
  /** Longest pause between body chunks, in ms (default 60 s). */
  readonly bodyTimeoutMs?: number;
  /** Time allowed for a metainfo or seed answer to start, in ms (default 10 min). */
  readonly metainfoTimeoutMs?: number;
  /**
   * Nodes a read asks at most before it reports "not found" (default replicas + 1:
   * the owners, plus the node that took a blob while an owner was down).
   */
  readonly readAttempts?: number;
  /** TLS to the origins: the client files (`createClientTls`). */
  readonly tls?: ClientTlsContext | undefined;
  /** Builds the client of one origin; tests inject their own. */
  readonly clientFor?: (node: RingNode) => OriginNodeClient;
  /** Told when a blob read broke off and went on from another origin. */
  readonly onResume?: (event: { digest: Digest; nodeId: string; offset: number; error: unknown }) => void;
}

export interface OriginRingClient
  extends OriginClient, OriginUploadClient, OriginMetainfoClient, OriginSeedClient, OriginUpstreamClient {
  /** Asks every healthy owner to seed the blob; the answers of those that do. */
  seedOwners(digest: Digest, signal?: AbortSignal): Promise<SeedAnswer[]>;
  /** The client of one member, for origin-to-origin copies. */
  nodeClient(node: RingNode): OriginNodeClient;
}

export function createOriginRingClient(options: OriginRingClientOptions): OriginRingClient {
  const { ring } = options;
  const build =
    options.clientFor ??
    ((node: RingNode) =>
      createOriginClient({
        url: node.url,
        connections: options.connections ?? 16,
        ...(options.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: options.headersTimeoutMs }),
        ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
        ...(options.metainfoTimeoutMs === undefined ? {} : { metainfoTimeoutMs: options.metainfoTimeoutMs }),
        tls: options.tls,
      }));
  let closed = false;

  // One client per member; one that left the ring keeps no idle sockets open.
  const clients = createNodeClients(ring, build);
  const clientOf = (node: RingNode): OriginNodeClient => clients.get(node);

  const readAttempts = () => options.readAttempts ?? ring.replicas + 1;
  const everyone = () => Math.max(1, ring.members().length);

  async function find<T>(
    digest: Digest,
    fn: (client: OriginNodeClient, signal: AbortSignal | undefined) => Promise<T | undefined>,
    signal: AbortSignal | undefined,
    exclude?: ReadonlySet<string>,
  ) {
    return findOnOwners(ring, digest.value, (node, s) => fn(clientOf(node), s), {
      maxAttempts: readAttempts(),
      signal,
      ...(exclude === undefined ? {} : { exclude }),
    });
  }

  return {
    nodeClient: clientOf,
    ...createRingUploads(ring, clientOf),

    async statBlob(digest, signal) {
      return (await find(digest, (c, s) => c.statBlob(digest, s), signal))?.value;
    },

    async statUpstream(digest, ref, signal) {
      return (await find(digest, (c, s) => c.statUpstream(digest, ref, s), signal))?.value;
    },

    async resolveUpstreamTag(registry, repository, tag, signal) {
      // One owner per tag, so the cluster shares one answer (and one upstream request).
      // An upstream failure is the same from every origin: no point asking the next one.
      const result = await runWithFailover(
        ring,
        `upstream-tag:${registry}/${repository}:${tag}`,
        (node, attempt) => clientOf(node).resolveUpstreamTag(registry, repository, tag, attempt.signal),
        {
          retries: everyone() - 1,
          isRetryable: (error) =>
            isRetryableOriginError(error) &&
            !(error instanceof KrakenError && error.code === UPSTREAM_FAILED),
          ...(signal === undefined ? {} : { signal }),
        },
      );
      return result.value;
    },

    async getBlob(digest, getOptions = {}) {
      const { range, signal, upstream } = getOptions;
      const from = upstream === undefined ? {} : { upstream };
      const found = await find(
        digest,
        (c, s) =>
          c.getBlob(digest, {
            ...(range === undefined ? {} : { range }),
            ...(s ? { signal: s } : {}),
            ...from,
          }),
        signal,
      );
      if (found === undefined) return undefined;
      let end = range?.end;
      return createResumingRead({
        first: found.value,
        nodeId: found.node.id,
        start: range?.start ?? 0,
        signal,
        reopen: async (offset, exclude) => {
          const next = await find(
            digest,
            async (c, s) => {
              if (end === undefined) {
                const stat =
                  upstream === undefined
                    ? await c.statBlob(digest, s)
                    : await c.statUpstream(digest, upstream, s);
                if (stat === undefined) return undefined;
                end = stat.size - 1;
              }
              // The break came after the last byte: nothing is left to read.
              if (offset > end) return Readable.from([]);
              return c.getBlob(digest, {
                range: { start: offset, end },
                ...(s ? { signal: s } : {}),
                ...from,
              });
            },
            signal,
            exclude,
          );
          return next === undefined ? undefined : { body: next.value, nodeId: next.node.id };
        },
        onResume: (event) => options.onResume?.({ digest, ...event }),
      });
    },

    async putBlob(digest, body, putOptions = {}) {
      // A stream can be sent once; an opener lets the next node be tried.
      const retries = typeof body === 'function' ? everyone() - 1 : 0;
      await runWithFailover(
        ring,
        digest.value,
        (node, attempt) =>
          clientOf(node).putBlob(digest, body, {
            ...putOptions,
            ...(attempt.signal === undefined ? {} : { signal: attempt.signal }),
          }),
        {
          retries,
          isRetryable: isRetryableOriginError,
          ...(putOptions.signal === undefined ? {} : { signal: putOptions.signal }),
        },
      );
    },

    async deleteBlob(digest) {
      // Copies may sit on any member (owners, and nodes that stood in for them).
      const results = await Promise.allSettled(
        ring.members().map((node) => clientOf(node).deleteBlob(digest)),
      );
      return results.some((r) => r.status === 'fulfilled' && r.value);
    },

    async getMetainfo(digest, signal) {
      return (await find(digest, (c, s) => c.getMetainfo(digest, s), signal))?.value;
    },

    async seedBlob(digest, signal) {
      return (await find(digest, (c, s) => c.seedBlob(digest, s), signal))?.value;
    },

    async seedOwners(digest, signal) {
      let owners: RingNode[];
      try {
        owners = ring.healthyOwners(digest.value);
      } catch {
        owners = [];
      }
      const answers = await Promise.allSettled(
        owners.map(async (node) => {
          try {
            const answer = await clientOf(node).seedBlob(digest, signal);
            ring.reportSuccess(node.id);
            return answer;
          } catch (error) {
            if (signal?.aborted !== true && isRetryableOriginError(error)) ring.reportFailure(node.id, error);
            throw error;
          }
        }),
      );
      const seeding = answers.flatMap((r) =>
        r.status === 'fulfilled' && r.value !== undefined ? [r.value] : [],
      );
      if (seeding.length > 0) return seeding;
      // None of the owners has it yet: a node that stood in for one during a push may.
      const asked = new Set(owners.map((node) => node.id));
      const found = await find(digest, (c, s) => c.seedBlob(digest, s), signal, asked).catch(() => undefined);
      return found === undefined ? [] : [found.value];
    },

    async ping(signal) {
      try {
        await runWithFailover(ring, 'readiness', (node, attempt) => clientOf(node).ping(attempt.signal), {
          retries: everyone() - 1,
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (error) {
        if (!(error instanceof FailoverExhaustedError)) throw error;
        const reasons = error.attempts.map((a) =>
          a.error instanceof Error ? a.error.message : String(a.error),
        );
        throw new RemoteApiError('KRAKEN_NOT_READY', `no origin is ready: ${reasons.join('; ')}`, {
          statusCode: 503,
        });
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await clients.close();
    },
  };
}
