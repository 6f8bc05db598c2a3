/**
 * Peers a blob's download stops talking to for a while: one that sent a piece failing
 * its hash, or that stalled on requests. Entries expire, because a stall may have been
 * the network's fault; a peer that offends again is kept out for twice as long.
 */
export type BlacklistReason = 'bad-piece' | 'stalled' | 'protocol-error';

export interface PeerBlacklistOptions {
  /** First ban length (ms); doubles per repeated offence up to `maxBanMs`. */
  readonly banMs?: number;
  readonly maxBanMs?: number;
  readonly now: () => number;
}

export interface PeerBlacklist {
  add(blob: string, peerId: string, reason: BlacklistReason): { until: number; offences: number };
  isBlocked(blob: string, peerId: string): boolean;
  /** Drops expired entries; call now and then to keep memory bounded. */
  prune(): void;
  readonly size: number;
}

export function createPeerBlacklist(options: PeerBlacklistOptions): PeerBlacklist {
  const banMs = options.banMs ?? 60_000;
  const maxBanMs = options.maxBanMs ?? 30 * 60_000;
  const entries = new Map<string, { until: number; offences: number; reason: BlacklistReason }>();
  const key = (blob: string, peerId: string) => `${blob}\u0000${peerId}`;

  return {
    add(blob, peerId, reason) {
      const k = key(blob, peerId);
      const offences = (entries.get(k)?.offences ?? 0) + 1;
      const until = options.now() + Math.min(maxBanMs, banMs * 2 ** (offences - 1));
      entries.set(k, { until, offences, reason });
      return { until, offences };
    },
    isBlocked(blob, peerId) {
      const entry = entries.get(key(blob, peerId));
      return entry !== undefined && entry.until > options.now();
    },
    prune() {
      const now = options.now();
      // Offence counts are forgotten only once a ban has long expired.
      for (const [k, e] of entries) if (e.until + maxBanMs <= now) entries.delete(k);
    },
    get size() {
      return entries.size;
    },
  };
}
