/**
 * The tracker ring as one announcer: each blob's announces and metainfo lookups go to
 * the tracker that owns its digest on the hash ring, and down the digest's rendezvous
 * order when that tracker fails. Every client computes the same order, so all peers
 * of a swarm meet on the same tracker, and after it dies they all move to the same
 * next one: the swarm re-forms there within one announce interval.
 *
 * Only failures of the tracker (unreachable, 5xx, 429) move a request on; a request
 * the tracker refused as bad (4xx) would be refused by every tracker.
 *
 * `announceMany` sends many announces as one batch per owning tracker. A batch that fails
 * is not failed over as a whole: its blobs are announced one by one, each down its own
 * order, so a dead tracker costs each blob what it costs a single announce. A tracker
 * without the batch route (an older version, during a rolling upgrade) answers 404; it is
 * then sent single announces for `noBatchMs`.
 */
import {
  createNodeClients,
  failoverOrder,
  runWithFailover,
  type FailoverRing,
  type MembershipListener,
  type RingNode,
} from '@kraken/hashring';
import { parseDigest, type Digest } from '@kraken/oci-content';
import { createAnnounceClient, type AnnounceClient } from './announce-client.js';
import {
  MAX_BATCH_BLOBS,
  type AnnounceBatchRequest,
  type AnnounceRequest,
  type AnnounceResponse,
} from './announce-protocol.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import { InvalidRequestError, RemoteApiError, type ClientTlsContext } from '@kraken/service-kit';

/** What the client needs of the ring; a LiveRing fits. */
export interface TrackerRing extends FailoverRing {
  members(): readonly { readonly id: string }[];
  watchMembers?(listener: MembershipListener): () => void;
}

export interface TrackerRingClientOptions {
  readonly ring: TrackerRing;
  /** Keep-alive connections per tracker (default 2). */
  readonly connections?: number;
  /**
   * Time allowed for a tracker's answer to start, and each pause in it (ms, default
   * 10 s). A tracker that hangs costs this much before the next one is asked.
   */
  readonly timeoutMs?: number;
  /** TLS to the trackers: the client files (`createClientTls`). */
  readonly tls?: ClientTlsContext | undefined;
  /** Builds the client of one tracker; tests inject in-memory ones. */
  readonly clientFor?: (url: string) => AnnounceClient;
  /** How long a tracker that lacks the batch route gets single announces (ms, default 5 min). */
  readonly noBatchMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

/** One announce's outcome in `announceMany`. */
export type AnnounceOutcome = { ok: true; value: AnnounceResponse } | { ok: false; error: unknown };

export interface TrackerRingClient extends Omit<AnnounceClient, 'announceBatch'> {
  /**
   * Announces every request, in one batch per owning tracker (and per announcing peer), and
   * settles each on its own: the outcomes come in the requests' order. A complete blob is
   * announced wanting no peers: a seeder never dials, so its answer's peers would go unread.
   */
  announceMany(requests: readonly AnnounceRequest[], signal?: AbortSignal): Promise<AnnounceOutcome[]>;
  /** The tracker that would get the digest's next request (the first healthy owner). */
  ownerOf(digest: Digest | string): string | undefined;
}

export function createTrackerRingClient(options: TrackerRingClientOptions): TrackerRingClient {
  const { ring } = options;
  const build =
    options.clientFor ??
    ((url: string) =>
      createAnnounceClient({
        url,
        connections: options.connections ?? 2,
        timeoutMs: options.timeoutMs ?? 10_000,
        tls: options.tls,
      }));
  let closed = false;

  // One client per member; one that left the ring keeps no idle sockets open.
  const clients = createNodeClients(ring, (node) => build(node.url));
  const clientOf = (node: RingNode): AnnounceClient => clients.get(node);

  // Every member may be tried: a request only fails when no tracker answers.
  const failover = (signal: AbortSignal | undefined) => ({
    retries: Math.max(0, ring.members().length - 1),
    isRetryable,
    ...(signal === undefined ? {} : { signal }),
  });

  const noBatchMs = options.noBatchMs ?? 5 * 60_000;
  const now = options.now ?? (() => performance.now());
  /** Trackers that answered the batch route with 404, until when. */
  const noBatchUntil = new Map<string, number>();
  const batches = (node: RingNode) => (noBatchUntil.get(node.id) ?? -Infinity) <= now();

  const announce = async (request: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> => {
    const { value } = await runWithFailover(
      ring,
      keyOf(request.blob),
      (node, attempt) => clientOf(node).announce(request, attempt.signal),
      failover(signal),
    );
    return value;
  };

  const settle = (request: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceOutcome> =>
    announce(request, signal).then(
      (value) => ({ ok: true, value }),
      (error: unknown) => ({ ok: false, error }),
    );
  /** Announces one request alone, its outcome going to `outcomes[index]`. */
  const settleInto = (
    outcomes: AnnounceOutcome[],
    index: number,
    request: AnnounceRequest,
    signal: AbortSignal | undefined,
  ): Promise<void> => settle(request, signal).then((outcome) => void (outcomes[index] = outcome));

  /** Sends one batch of requests that share a tracker and a peer; each outcome at its index. */
  const sendBatch = async (
    node: RingNode,
    group: readonly AnnounceRequest[],
    outcomes: AnnounceOutcome[],
    indexes: readonly number[],
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    const first = group[0] as AnnounceRequest;
    const batch: AnnounceBatchRequest = {
      peerId: first.peerId,
      ...(first.clusterId === undefined ? {} : { clusterId: first.clusterId }),
      address: first.address,
      origin: first.origin ?? false,
      blobs: group.map(({ blob, complete }) => (complete ? { blob, complete, want: 0 } : { blob, complete })),
    };
    try {
      const answer = await clientOf(node).announceBatch(batch, signal);
      ring.reportSuccess(node.id);
      answer.answers.forEach(({ peers }, i) => {
        outcomes[indexes[i] as number] = {
          ok: true,
          value: { peers, intervalSeconds: answer.intervalSeconds },
        };
      });
      return;
    } catch (error) {
      if (signal?.aborted === true) throw error;
      if (error instanceof RemoteApiError && error.statusCode === 404) {
        noBatchUntil.set(node.id, now() + noBatchMs);
      } else if (isRetryable(error)) {
        ring.reportFailure(node.id, error);
      } else {
        for (const i of indexes) outcomes[i] = { ok: false, error };
        return;
      }
    }
    await Promise.all(group.map((request, i) => settleInto(outcomes, indexes[i] as number, request, signal)));
  };

  return {
    announce,

    async announceMany(requests, signal) {
      const outcomes = new Array<AnnounceOutcome>(requests.length);
      // Grouped by owning tracker and announcing peer, in the requests' order.
      const groups = new Map<string, { node: RingNode; indexes: number[]; blobs: Set<string> }>();
      const sends: Promise<void>[] = [];
      requests.forEach((request, i) => {
        const node = failoverOrder(ring, keyOf(request.blob))[0];
        if (node === undefined || !batches(node)) {
          sends.push(settleInto(outcomes, i, request, signal));
          return;
        }
        const { peerId, clusterId, address, origin } = request;
        const id = JSON.stringify([node.id, peerId, clusterId, address.host, address.port, origin ?? false]);
        const group = groups.get(id);
        if (group === undefined) groups.set(id, { node, indexes: [i], blobs: new Set([request.blob]) });
        else if (group.blobs.has(request.blob)) {
          // A batch names a blob once: a second announce of it goes alone.
          sends.push(settleInto(outcomes, i, request, signal));
        } else {
          group.indexes.push(i);
          group.blobs.add(request.blob);
        }
      });
      for (const { node, indexes } of groups.values()) {
        for (let at = 0; at < indexes.length; at += MAX_BATCH_BLOBS) {
          const chunk = indexes.slice(at, at + MAX_BATCH_BLOBS);
          const group = chunk.map((i) => requests[i] as AnnounceRequest);
          sends.push(
            chunk.length === 1
              ? settleInto(outcomes, chunk[0] as number, group[0] as AnnounceRequest, signal)
              : sendBatch(node, group, outcomes, chunk, signal),
          );
        }
      }
      await Promise.all(sends);
      return outcomes;
    },

    async getMetainfo(digest: Digest | string, signal?: AbortSignal): Promise<Metainfo | undefined> {
      // The owner is asked first because it is the tracker likely to have it cached.
      const { value } = await runWithFailover(
        ring,
        keyOf(digest),
        (node, attempt) => clientOf(node).getMetainfo(digest, attempt.signal),
        failover(signal),
      );
      return value;
    },

    ownerOf(digest) {
      const ranked = ring.ranked(keyOf(digest));
      return (ranked.find((node) => ring.isHealthy(node.id)) ?? ranked[0])?.url;
    },

    async close() {
      if (closed) return;
      closed = true;
      await clients.close();
    },
  };
}

/** The ring key of a blob: its digest string, as every client spells it. */
function keyOf(digest: Digest | string): string {
  return typeof digest === 'string' ? parseDigest(digest).value : digest.value;
}

function isRetryable(error: unknown): boolean {
  if (error instanceof InvalidRequestError) return false;
  if (error instanceof RemoteApiError) {
    const status = error.statusCode ?? 500;
    return status >= 500 || status === 429;
  }
  return true;
}
