/**
 * What each TLS Secret's certificate must hold for the cluster to work, per Secret (one
 * may serve several components): the identities that write guards check (as common
 * name or DNS names) and the DNS names clients dial. Write a cert-manager Certificate
 * with these `dnsNames` and usages, issued by the cluster CA, and point `spec.tls` at
 * its Secret.
 */
import type { KrakenCluster } from '../api/v1alpha1/kraken-cluster-types.js';
import { validateKrakenCluster } from '../api/v1alpha1/kraken-cluster-validation.js';
import { headlessServiceName, workloadName, type Component } from './component-names.js';
import { tlsSecretOf } from './secret-mounts.js';

export interface CertificateRequirement {
  readonly secretName: string;
  readonly components: readonly Component[];
  /** Identities and host names, for the Certificate's `dnsNames`. */
  readonly dnsNames: readonly string[];
  readonly usages: readonly ['server auth', 'client auth'];
}

const COMPONENTS: readonly Component[] = ['origin', 'tracker', 'build-index', 'proxy', 'agent'];

/** One entry per TLS Secret of the cluster; none without `spec.tls`. */
export function certificateRequirements(
  cluster: Pick<KrakenCluster, 'metadata' | 'spec'>,
): CertificateRequirement[] {
  const spec = validateKrakenCluster(cluster);
  const ref = cluster.metadata;
  const bySecret = new Map<string, { components: Component[]; names: string[] }>();
  for (const component of COMPONENTS) {
    const secret = tlsSecretOf(spec, component);
    if (secret === undefined) continue;
    const names: string[] = [component];
    if (component === 'origin' || component === 'tracker' || component === 'build-index')
      names.push(`*.${headlessServiceName(ref, component)}.${ref.namespace}.svc`);
    if (component !== 'agent') names.push(`${workloadName(ref, component)}.${ref.namespace}.svc`);
    const entry = bySecret.get(secret.name) ?? { components: [], names: [] };
    entry.components.push(component);
    entry.names.push(...names);
    bySecret.set(secret.name, entry);
  }
  return [...bySecret.entries()].map(([secretName, { components, names }]) => ({
    secretName,
    components,
    dnsNames: [...new Set(names)],
    usages: ['server auth', 'client auth'] as const,
  }));
}
