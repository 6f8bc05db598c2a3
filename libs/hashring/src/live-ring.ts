/**
 * A ring that follows its membership and its members' health: the pieces an app
 * wires from one `RingConfig`. Membership changes swap in a freshly built
 * rendezvous ring (lookups never see a half-updated one) and tell the health
 * tracker which nodes to follow.
 */
import { parseDnsTarget, type DnsResolver } from './dns-members.js';
import { NoHealthyNodeError } from './errors.js';
import { createHealthTracker, type HealthListener, type NodeHealth } from './health-tracker.js';
import { createHttpHealthProbe, type HealthProbe, type ProbeTls } from './health-probe.js';
import { createMembership, type MembershipListener, type MembershipSource } from './membership.js';
import { createRing, keyString, type Ring, type RingKey } from './rendezvous.js';
import type { RingConfig } from './ring-config.js';
import { parseRingNode, type RingNode } from './ring-node.js';
import type { Timers } from '@kraken/foundation';
import type { RingLogger } from './ring-logger.js';

export interface LiveRing {
  readonly replicas: number;
  members(): readonly RingNode[];
  /** Top-n owners by rendezvous order, regardless of health; [] when the ring is empty. */
  owners(key: RingKey, n?: number): RingNode[];
  /**
   * The first n healthy nodes in rendezvous order: an unhealthy owner is replaced by
   * the next healthy node down the order. Throws NoHealthyNodeError when none is.
   */
  healthyOwners(key: RingKey, n?: number): RingNode[];
  /** Every member, best first, regardless of health. */
  ranked(key: RingKey): RingNode[];
  isHealthy(nodeId: string): boolean;
  /** Passive health: a real request to the node succeeded. */
  reportSuccess(nodeId: string): void;
  /** Passive health: a real request to the node failed because of the node. */
  reportFailure(nodeId: string, error?: unknown): void;
  health(): NodeHealth[];
  watchMembers(listener: MembershipListener): () => void;
  watchHealth(listener: HealthListener): () => void;
  refresh(): Promise<void>;
  /** Resolves the members once (failures logged) and starts refreshes and probes. */
  start(): Promise<void>;
  close(): void;
}

export interface LiveRingDeps {
  readonly resolver?: DnsResolver;
  readonly timers?: Timers;
  readonly logger?: RingLogger;
  /** Replaces the HTTP GET probe (config `health.active.path`). */
  readonly probe?: HealthProbe;
  /**
   * TLS of the HTTP probe for https:// members: the component's client files, as its
   * ring clients use. Absent, the system CAs.
   */
  readonly tls?: ProbeTls | undefined;
}

/** The membership source a config describes. */
export function membershipSourceOf(config: RingConfig): MembershipSource {
  if (config.dns !== undefined) {
    return { kind: 'dns', target: parseDnsTarget(config.dns), scheme: config.scheme };
  }
  const nodes = config.nodes.map((entry) =>
    typeof entry === 'string'
      ? parseRingNode(entry, { scheme: config.scheme })
      : parseRingNode(entry.address, { scheme: config.scheme, weight: entry.weight }),
  );
  return { kind: 'static', nodes };
}

export function createLiveRing(config: RingConfig, deps: LiveRingDeps = {}): LiveRing {
  const source = membershipSourceOf(config);
  const membership = createMembership(
    { source, refreshIntervalMs: config.refreshIntervalMs },
    { resolver: deps.resolver, timers: deps.timers, logger: deps.logger },
  );
  const health = createHealthTracker(config.health, {
    probe: deps.probe ?? createHttpHealthProbe(config.health.active.path, { tls: deps.tls }),
    timers: deps.timers,
    logger: deps.logger,
  });
  let ring: Ring = createRing({ nodes: membership.current(), replicas: config.replicas });
  health.setMembers(ring.members());
  const isHealthyNode = (node: RingNode): boolean => health.isHealthy(node.id);

  membership.watch((change) => {
    ring = createRing({ nodes: change.members, replicas: config.replicas });
    health.setMembers(ring.members());
  });

  return {
    replicas: config.replicas,
    members: () => ring.members(),
    owners: (key, n) => ring.owners(key, n),
    healthyOwners(key, n) {
      const found = ring.owners(key, n, isHealthyNode);
      if (found.length === 0) {
        throw new NoHealthyNodeError(keyString(key), ring.members().length === 0 ? 'empty' : 'unhealthy');
      }
      return found;
    },
    ranked: (key) => ring.ranked(key),
    isHealthy: (nodeId) => health.isHealthy(nodeId),
    reportSuccess: (nodeId) => health.reportSuccess(nodeId),
    reportFailure: (nodeId, error) => health.reportFailure(nodeId, error),
    health: () => health.status(),
    watchMembers: (listener) => membership.watch(listener),
    watchHealth: (listener) => health.watch(listener),
    async refresh() {
      await membership.refresh();
    },
    async start() {
      await membership.start();
      health.start();
    },
    close() {
      membership.close();
      health.close();
    },
  };
}
