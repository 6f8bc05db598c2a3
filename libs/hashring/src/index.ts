/**
 * @kraken/hashring: which nodes own a key. Weighted rendezvous hashing over a
 * membership that is static or follows DNS (A/AAAA/SRV), active and passive health
 * checks, and client-side failover down a key's rendezvous order.
 */
export {
  InvalidRingMemberError,
  NoHealthyNodeError,
  MembershipResolveError,
  HealthProbeError,
  FailoverExhaustedError,
} from './errors.js';
export type { FailedAttempt } from './errors.js';
export { createRingNode, parseRingNode, formatHostPort } from './ring-node.js';
export type { RingNode, RingNodeInit, RingScheme } from './ring-node.js';
export { createRing } from './rendezvous.js';
export type { Ring, RingOptions, RingKey } from './rendezvous.js';
export { parseDnsTarget } from './dns-members.js';
export type { DnsResolver, DnsTarget } from './dns-members.js';
export { createMembership } from './membership.js';
export type {
  Membership,
  MembershipChange,
  MembershipListener,
  MembershipOptions,
  MembershipDeps,
  MembershipSource,
} from './membership.js';
export { createHttpHealthProbe } from './health-probe.js';
export type { HealthProbe, ProbeTls } from './health-probe.js';
export { createHealthTracker } from './health-tracker.js';
export type {
  HealthTracker,
  HealthOptions,
  HealthDeps,
  NodeHealth,
  HealthChange,
  HealthListener,
} from './health-tracker.js';
export { createLiveRing, membershipSourceOf } from './live-ring.js';
export type { LiveRing, LiveRingDeps } from './live-ring.js';
export { runWithFailover, failoverOrder } from './failover.js';
export type { FailoverRing, FailoverOptions, FailoverResult, FailoverAttempt } from './failover.js';
export {
  ringConfigSchema,
  createRingConfigSchema,
  ringHealthSchema,
  createRingHealthSchema,
  ringNodeEntrySchema,
} from './ring-config.js';
export type { RingConfig, RingConfigInput, RingHealthConfig, RingConfigDefaults } from './ring-config.js';
export type { RingLogger } from './ring-logger.js';
export { createNodeClients } from './node-clients.js';
export type { NodeClients } from './node-clients.js';
