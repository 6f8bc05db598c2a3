/**
 * Who is in the ring: a static list, or DNS records refreshed on an interval.
 * Watchers hear about every change as the new member list plus what was added and
 * removed. A failed refresh keeps the previous members (a DNS outage must not
 * empty the ring) and is retried at the next interval.
 */
import * as dns from 'node:dns/promises';
import { resolveDnsMembers, type DnsResolver, type DnsTarget } from './dns-members.js';
import type { RingNode, RingScheme } from './ring-node.js';
import { systemClock, type TimerHandle, type Timers } from '@kraken/foundation';
import { noopLogger, type RingLogger } from './ring-logger.js';

export type MembershipSource =
  | { readonly kind: 'static'; readonly nodes: readonly RingNode[] }
  | { readonly kind: 'dns'; readonly target: DnsTarget; readonly scheme: RingScheme };

export interface MembershipChange {
  readonly members: readonly RingNode[];
  readonly added: readonly RingNode[];
  readonly removed: readonly RingNode[];
}

export type MembershipListener = (change: MembershipChange) => void;

export interface Membership {
  current(): readonly RingNode[];
  /** Resolves now; returns the change, or undefined when members are unchanged. */
  refresh(): Promise<MembershipChange | undefined>;
  /** Registers a listener; returns the function that removes it. */
  watch(listener: MembershipListener): () => void;
  /** First resolution (failures are logged, not thrown), then periodic refreshes. */
  start(): Promise<void>;
  close(): void;
}

export interface MembershipOptions {
  readonly source: MembershipSource;
  readonly refreshIntervalMs: number;
}

export interface MembershipDeps {
  readonly resolver?: DnsResolver;
  readonly timers?: Timers;
  readonly logger?: RingLogger;
}

const systemResolver: DnsResolver = {
  resolve4: (name) => dns.resolve4(name),
  resolve6: (name) => dns.resolve6(name),
  resolveSrv: (name) => dns.resolveSrv(name),
};

export function diffMembers(previous: readonly RingNode[], next: readonly RingNode[]): MembershipChange {
  const before = new Set(previous.map((n) => n.id));
  const after = new Set(next.map((n) => n.id));
  return {
    members: next,
    added: next.filter((n) => !before.has(n.id)),
    removed: previous.filter((n) => !after.has(n.id)),
  };
}

export function createMembership(options: MembershipOptions, deps: MembershipDeps = {}): Membership {
  const { source } = options;
  const resolver = deps.resolver ?? systemResolver;
  const timers = deps.timers ?? systemClock;
  const logger = deps.logger ?? noopLogger;
  const listeners = new Set<MembershipListener>();
  let members: readonly RingNode[] = source.kind === 'static' ? Object.freeze([...source.nodes]) : [];
  let inFlight: Promise<MembershipChange | undefined> | undefined;
  let timer: TimerHandle | undefined;
  let started = false;
  let closed = false;

  function publish(change: MembershipChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.warn({ err: error }, 'ring membership listener threw');
      }
    }
  }

  async function resolve(): Promise<MembershipChange | undefined> {
    if (source.kind === 'static') return undefined;
    const next = await resolveDnsMembers(source.target, resolver, source.scheme);
    if (closed) return undefined;
    const change = diffMembers(members, next);
    if (change.added.length === 0 && change.removed.length === 0) return undefined;
    members = Object.freeze(next);
    logger.info(
      { added: change.added.map((n) => n.id), removed: change.removed.map((n) => n.id) },
      'ring membership changed',
    );
    publish(change);
    return change;
  }

  function refresh(): Promise<MembershipChange | undefined> {
    // Concurrent callers share one lookup rather than racing to publish.
    inFlight ??= resolve().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function schedule(): void {
    if (closed || source.kind === 'static') return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void refreshLogged().finally(schedule);
    }, options.refreshIntervalMs);
  }

  async function refreshLogged(): Promise<void> {
    try {
      await refresh();
    } catch (error) {
      logger.warn({ err: error }, 'ring membership refresh failed; keeping previous members');
    }
  }

  return {
    current: () => members,
    refresh,
    watch(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async start() {
      if (started || closed) return;
      started = true;
      await refreshLogged();
      schedule();
    },
    close() {
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      listeners.clear();
    },
  };
}
