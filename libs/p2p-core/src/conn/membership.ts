/**
 * The admission the `p2p` block asks for: TLS when `tls` is set, the cluster token
 * challenge when only `clusterTokenFile` is, none (plain mode) otherwise.
 */
import type { MembershipConfig } from './membership-config.js';
import type { PeerAdmission, PeerAdmissionDeps } from './peer-admission.js';
import { createTlsAdmission } from './tls-admission.js';
import { createTokenAdmission } from './token-admission.js';

export function createPeerAdmission(
  config: MembershipConfig,
  deps: PeerAdmissionDeps,
): PeerAdmission | undefined {
  if (config.tls !== undefined) return createTlsAdmission(config.tls, deps);
  if (config.clusterTokenFile !== undefined) return createTokenAdmission(config.clusterTokenFile, deps);
  return undefined;
}
