/**
 * KrakenClusters for tests: the smallest valid one, and one per feature the renderer
 * treats specially (TLS, S3 storage, mirrored upstreams, push authentication).
 */
import {
  KRAKEN_API_VERSION,
  KRAKEN_CLUSTER_KIND,
  REPLICATION_RULE_KIND,
} from '../api/v1alpha1/group-version.js';
import type { KrakenCluster, KrakenClusterSpecInput } from '../api/v1alpha1/kraken-cluster-types.js';
import type { ReplicationRule, ReplicationRuleSpecInput } from '../api/v1alpha1/replication-rule-types.js';

export const TEST_IMAGE = 'registry.example.com/kraken:0.1.0';

export function krakenCluster(spec: Partial<KrakenClusterSpecInput> = {}, name = 'kraken'): KrakenCluster {
  return {
    apiVersion: KRAKEN_API_VERSION,
    kind: KRAKEN_CLUSTER_KIND,
    metadata: { name, namespace: 'registry', uid: `uid-${name}`, generation: 1 },
    spec: { image: TEST_IMAGE, ...spec },
  };
}

export const minimalCluster = () => krakenCluster();

export const tlsCluster = () =>
  krakenCluster({
    tls: { secretName: 'kraken-tls', proxy: 'kraken-proxy-tls' },
    proxy: { tls: { secretName: 'registry-example-com' } },
  });

export const s3Cluster = () =>
  krakenCluster({
    storage: {
      type: 's3',
      bucket: 'kraken-blobs',
      prefix: 'prod',
      region: 'eu-west-1',
      credentials: {
        accessKeyId: { name: 'kraken-s3' },
        secretAccessKey: { name: 'kraken-s3' },
      },
    },
  });

export const upstreamsCluster = () =>
  krakenCluster({
    origins: {
      upstreams: [
        { name: 'docker.io', url: 'https://registry-1.docker.io' },
        { name: 'ghcr.io', url: 'https://ghcr.io', credentials: { name: 'ghcr-pull' } },
      ],
    },
    agents: { pushRegistries: ['registry.example.com'] },
    p2p: { clusterToken: { name: 'kraken-p2p' } },
  });

export const authCluster = () =>
  krakenCluster({
    proxy: {
      auth: {
        htpasswd: { secret: { name: 'registry-users' }, groups: { name: 'registry-users', key: 'groups' } },
        rules: [{ repositories: ['**'], groups: ['ci'], actions: ['pull', 'push'] }],
        anonymousPull: ['public/**'],
      },
      service: { type: 'LoadBalancer', port: 443 },
    },
  });

export function replicationRule(
  spec: Partial<ReplicationRuleSpecInput> = {},
  name = 'to-eu',
): ReplicationRule {
  return {
    apiVersion: KRAKEN_API_VERSION,
    kind: REPLICATION_RULE_KIND,
    metadata: { name, namespace: 'registry', uid: `uid-${name}`, generation: 2 },
    spec: {
      cluster: 'kraken',
      repositories: 'team/.*',
      destination: { discover: 'https://build-index.eu.example.com:15004' },
      ...spec,
    },
  };
}
