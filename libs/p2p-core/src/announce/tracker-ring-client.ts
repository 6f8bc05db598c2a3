/**
 * The tracker ring as one announcer: each blob's announces and metainfo lookups go to
 * the tracker that owns its digest on the hash ring, and down the digest's rendezvous
 * order when that tracker fails. Every client computes the same order, so all peers
 * of a swarm meet on the same tracker, and after it dies they all move to the same
 * next one: the swarm re-forms there within one announce interval.
 *
 * Only failures of the tracker (unreachable, 5xx, 429) move a request on; a request
 * the tracker refused as bad (4xx) would be refused by every tracker.
 */
import {
  createNodeClients,
  runWithFailover,
  type FailoverRing,
  type MembershipListener,
  type RingNode,
} from '@kraken/hashring';
import { parseDigest, type Digest } from '@kraken/oci-content';
import { createAnnounceClient, type AnnounceClient } from './announce-client.js';
import type { AnnounceRequest, AnnounceResponse } from './announce-protocol.js';
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
}

export interface TrackerRingClient extends AnnounceClient {
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

  return {
    async announce(request: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
      const { value } = await runWithFailover(
        ring,
        keyOf(request.blob),
        (node, attempt) => clientOf(node).announce(request, attempt.signal),
        failover(signal),
      );
      return value;
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
