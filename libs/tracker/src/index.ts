/**
 * @kraken/tracker: the tracker's domain. The peer store of every swarm, the policy
 * that picks whom to hand out, origin seeding of swarms without an origin, metainfo
 * lookups, and the /v1/ announce routes. The announce protocol's contract and its
 * client live in @kraken/p2p-core, on the peer side.
 */
export { trackerConfigSchema } from './config.js';
export type { MetainfoSource } from './metainfo-cache.js';
export { createPeerPolicy } from './peer-policy.js';
export { createPeerStore } from './peer-store.js';
export type { HandoutRequest, PeerEntry, PeerStore, PeerStoreStats, SwarmKey } from './peer-store.js';
export { createTrackerRoutes } from './routes.js';
export { trackerRouteContracts } from './route-contracts.js';
export type { TrackerConfig } from './config.js';
export type { PeerGroups, PeerPolicy, PeerPolicyOptions, PeerPriority } from './peer-policy.js';
export type { TrackerRoutesOptions } from './routes.js';
