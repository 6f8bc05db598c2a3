/**
 * The running peer's metrics, registered on the component's service-kit Metrics: what
 * the swarm fetcher fetched and how (`blob_fetches_total`, `swarm_bytes_total`), how
 * many blobs and peers the node's swarms hold (`swarm_blobs`, `swarm_peers_connected`),
 * how many connections it refused before their handshake (`p2p_handshake_refused_total`),
 * and how many blobs a seeder seeds (`seeded_blobs`). Without a registry, none.
 */
import type { Metrics } from '@kraken/service-kit';
import type { PeerRefusal } from '../conn/conn-manager.js';
import { REFUSAL_REASONS } from '../conn/peer-admission.js';

/** What the fetcher counts of a finished fetch (a FetchOutcome). */
export interface FetchCount {
  readonly path: 'swarm' | 'direct' | 'fallback';
  readonly ok: boolean;
  readonly swarm?: { readonly bytesFromPeers: number; readonly bytesFromOrigins: number } | undefined;
}

export interface FetcherMetrics {
  fetched(outcome: FetchCount): void;
}

const NOOP_FETCHER: FetcherMetrics = { fetched() {} };

export function createFetcherMetrics(metrics: Metrics | undefined): FetcherMetrics {
  if (metrics === undefined) return NOOP_FETCHER;
  const fetches = metrics.counter(
    'blob_fetches_total',
    'Blobs fetched into the cache, by path (swarm, direct, fallback) and result.',
    ['path', 'result'] as const,
  );
  const swarmBytes = metrics.counter(
    'swarm_bytes_total',
    'Piece bytes received through the swarm, by source (peer or origin).',
    ['source'] as const,
  );
  return {
    fetched(outcome) {
      fetches.inc({ path: outcome.path, result: outcome.ok ? 'ok' : 'missing' });
      if (outcome.swarm !== undefined) {
        swarmBytes.inc({ source: 'peer' }, outcome.swarm.bytesFromPeers);
        swarmBytes.inc({ source: 'origin' }, outcome.swarm.bytesFromOrigins);
      }
    },
  };
}

/** Gauges of the node's swarms, read from the scheduler at each scrape. */
export function registerPeerNodeMetrics(
  metrics: Metrics | undefined,
  scheduler: { list(): readonly { readonly peersConnected: number }[] },
): void {
  if (metrics === undefined) return;
  metrics.gauge('swarm_blobs', 'Blobs in a swarm (downloading or seeding).', {
    collect: (gauge) => gauge.set(scheduler.list().length),
  });
  metrics.gauge('swarm_peers_connected', 'Peers connected over all swarms.', {
    collect: (gauge) => gauge.set(scheduler.list().reduce((sum, blob) => sum + blob.peersConnected, 0)),
  });
}

/** Counts refused connections by reason; every reason starts at 0, so that rates work at once. */
export function createRefusalMetrics(
  metrics: Metrics | undefined,
): ((refusal: PeerRefusal) => void) | undefined {
  if (metrics === undefined) return undefined;
  const refused = metrics.counter(
    'p2p_handshake_refused_total',
    'P2P connections closed before their handshake was accepted, by reason: tls (handshake or certificate), token (wrong proof), no-token (peer without the token), timeout, cluster, version, protocol.',
    ['reason'] as const,
  );
  for (const reason of REFUSAL_REASONS) refused.inc({ reason }, 0);
  return ({ reason }) => refused.inc({ reason });
}

export function registerSeederMetrics(metrics: Metrics | undefined, seeder: { readonly size: number }): void {
  if (metrics === undefined) return;
  metrics.gauge('seeded_blobs', 'Blobs this origin seeds over P2P right now.', {
    collect: (gauge) => gauge.set(seeder.size),
  });
}
