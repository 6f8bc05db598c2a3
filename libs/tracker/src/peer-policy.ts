/**
 * Which peers the tracker hands out: up to `limit` of a swarm's peers, never the
 * requester itself, sampled at random within priority tiers. By default completed
 * peers and origins come first (they can serve every piece), then the rest; within a
 * tier the order is random so that a swarm's load spreads over all its seeders.
 */
import type { PeerEntry } from './peer-store.js';

/**
 * - `complete-first`: completed peers and origins, then downloading peers (default);
 * - `origins-first`: origins, then completed peers, then downloading peers;
 * - `random`: one uniform sample.
 */
export type PeerPriority = 'complete-first' | 'origins-first' | 'random';

export const PEER_PRIORITIES = ['complete-first', 'origins-first', 'random'] as const;

export interface PeerPolicyOptions {
  readonly priority?: PeerPriority;
  /** Uniform in [0, 1); defaults to Math.random. */
  readonly random?: () => number;
}

export interface PeerSelection {
  /** The announcing peer; excluded by id, and by address (a restarted peer with a new id). */
  readonly requester: Pick<PeerEntry, 'peerId' | 'host' | 'port'>;
  readonly limit: number;
}

export interface PeerPolicy {
  select(candidates: readonly PeerEntry[], selection: PeerSelection): PeerEntry[];
}

const TIER_COUNT: Record<PeerPriority, number> = { 'complete-first': 2, 'origins-first': 3, random: 1 };

function tierOf(priority: PeerPriority, peer: PeerEntry): number {
  switch (priority) {
    case 'complete-first':
      return peer.complete || peer.origin ? 0 : 1;
    case 'origins-first':
      return peer.origin ? 0 : peer.complete ? 1 : 2;
    case 'random':
      return 0;
  }
}

export function createPeerPolicy(options: PeerPolicyOptions = {}): PeerPolicy {
  const priority = options.priority ?? 'complete-first';
  const random = options.random ?? Math.random;

  /** Moves a uniform random sample of `count` items to the front (partial Fisher-Yates). */
  const sampleInPlace = (items: PeerEntry[], count: number) => {
    for (let i = 0; i < count; i++) {
      const j = i + Math.min(items.length - i - 1, Math.floor(random() * (items.length - i)));
      const picked = items[j] as PeerEntry;
      items[j] = items[i] as PeerEntry;
      items[i] = picked;
    }
  };

  return {
    select(candidates, { requester, limit }) {
      const tiers: PeerEntry[][] = Array.from({ length: TIER_COUNT[priority] }, () => []);
      const host = requester.host.toLowerCase();
      for (const peer of candidates) {
        if (peer.peerId === requester.peerId) continue;
        if (peer.port === requester.port && peer.host.toLowerCase() === host) continue;
        tiers[tierOf(priority, peer)]?.push(peer);
      }
      const selected: PeerEntry[] = [];
      for (const tier of tiers) {
        if (selected.length >= limit) break;
        const take = Math.min(tier.length, limit - selected.length);
        sampleInPlace(tier, take);
        for (let i = 0; i < take; i++) selected.push(tier[i] as PeerEntry);
      }
      return selected;
    },
  };
}
