import { describe, expect, it } from 'vitest';
import {
  agentConfigSchema,
  buildIndexConfigSchema,
  originConfigSchema,
  proxyConfigSchema,
  trackerConfigSchema,
} from '@kraken/component-configs';
import {
  authCluster,
  krakenCluster,
  minimalCluster,
  s3Cluster,
  tlsCluster,
  upstreamsCluster,
} from '../testing/kraken-cluster-fixtures.js';
import { clusterEndpoints } from './cluster-endpoints.js';
import { renderComponentConfigs } from './config-render.js';

const specs = { minimalCluster, tlsCluster, s3Cluster, upstreamsCluster, authCluster };

describe('renderComponentConfigs', () => {
  for (const [name, cluster] of Object.entries(specs)) {
    it(`${name}: every rendered config parses with its component's schema`, () => {
      const configs = renderComponentConfigs(cluster());
      for (const config of configs.origins) originConfigSchema.parse(config);
      for (const config of configs.trackers) trackerConfigSchema.parse(config);
      for (const config of configs.buildIndex) buildIndexConfigSchema.parse(config);
      proxyConfigSchema.parse(configs.proxy);
      agentConfigSchema.parse(configs.agent);
      expect(configs.origins).toHaveLength(3);
      expect(configs.trackers).toHaveLength(2);
      expect(configs.buildIndex).toHaveLength(2);
    });
  }

  it('lists the rings by stable pod DNS names, and each member names itself', () => {
    const { origins, buildIndex, agent } = renderComponentConfigs(minimalCluster());
    const origin0 = 'kraken-origin-0.kraken-origin-headless.registry.svc:15002';
    expect(origins[1]?.origins).toEqual({
      nodes: [
        origin0,
        'kraken-origin-1.kraken-origin-headless.registry.svc:15002',
        'kraken-origin-2.kraken-origin-headless.registry.svc:15002',
      ],
      scheme: 'http',
      replicas: 2,
    });
    expect(origins[0]?.replication).toEqual({ self: origin0 });
    expect(origins[0]?.listen).toEqual({ host: '0.0.0.0', port: 15002 });
    expect(origins[0]?.p2p).toMatchObject({ listen: { host: '0.0.0.0', port: 15001 }, clusterId: 'kraken' });
    const bi1 = 'kraken-build-index-1.kraken-build-index-headless.registry.svc:15004';
    expect(buildIndex[0]?.cluster).toEqual({ peers: [`http://${bi1}`] });
    expect(buildIndex[1]?.replication).toMatchObject({ clusterId: 'kraken', advertiseUrl: `http://${bi1}` });
    expect(agent.listen).toEqual({ host: '127.0.0.1', port: 16000 });
    expect(agent.trackers).toEqual({
      nodes: [
        'kraken-tracker-0.kraken-tracker-headless.registry.svc:15003',
        'kraken-tracker-1.kraken-tracker-headless.registry.svc:15003',
      ],
      scheme: 'http',
    });
  });

  it('maps in-cluster addresses and data directories for local processes', () => {
    const cluster = krakenCluster({
      origins: { replicas: 2 },
      trackers: { replicas: 1 },
      buildIndex: { replicas: 1 },
    });
    const endpoints = clusterEndpoints(cluster);
    const addresses: Record<string, string> = {};
    endpoints.origins.forEach((a, i) => (addresses[a] = `127.0.0.1:${25002 + i * 10}`));
    endpoints.originsP2p.forEach((a, i) => (addresses[a] = `127.0.0.1:${25001 + i * 10}`));
    addresses[endpoints.trackers[0] ?? ''] = '127.0.0.1:25003';
    addresses[endpoints.buildIndex[0] ?? ''] = '127.0.0.1:25004';
    addresses[endpoints.proxy] = '127.0.0.1:25000';
    const configs = renderComponentConfigs(cluster, { addresses, dataDir: (member) => `/tmp/kc/${member}` });
    expect(configs.origins[1]).toMatchObject({
      listen: { host: '127.0.0.1', port: 25012 },
      replication: { self: '127.0.0.1:25012' },
      p2p: {
        listen: { host: '127.0.0.1', port: 25011 },
        advertiseHost: '127.0.0.1',
        dir: '/tmp/kc/origin-1/p2p',
      },
      origins: { nodes: ['127.0.0.1:25002', '127.0.0.1:25012'] },
      storage: { type: 'filesystem', root: '/tmp/kc/origin-1/store' },
    });
    expect(configs.buildIndex[0]).toMatchObject({
      listen: { host: '127.0.0.1', port: 25004 },
      replication: { advertiseUrl: 'http://127.0.0.1:25004', dbPath: '/tmp/kc/build-index-0/replication.db' },
    });
    expect(configs.trackers[0]?.listen).toEqual({ host: '127.0.0.1', port: 25003 });
    expect(configs.proxy.listen).toEqual({ host: '127.0.0.1', port: 25000 });
    expect(configs.agent.buildIndex).toMatchObject({ nodes: ['127.0.0.1:25004'] });
  });

  it('puts TLS from the Secrets on every link, mutual TLS on P2P', () => {
    const { origins, buildIndex, proxy, agent, trackers } = renderComponentConfigs(tlsCluster());
    const files = (secret: string) => ({
      certFile: `/etc/kraken/secrets/${secret}/tls.crt`,
      keyFile: `/etc/kraken/secrets/${secret}/tls.key`,
      caFile: `/etc/kraken/secrets/${secret}/ca.crt`,
    });
    const shared = files('kraken-tls');
    expect(origins[0]?.tls).toEqual({
      server: {
        certFile: shared.certFile,
        keyFile: shared.keyFile,
        clientCaFile: shared.caFile,
        clientAuth: 'optional',
      },
      client: shared,
    });
    expect(origins[0]?.p2p).toMatchObject({ tls: shared });
    expect(origins[0]?.origins).toMatchObject({ scheme: 'https' });
    expect(trackers[0]?.tls).toMatchObject({ client: shared });
    expect(buildIndex[0]?.tls).toMatchObject({ writers: ['proxy', 'build-index', 'operator'] });
    expect(buildIndex[0]?.cluster?.peers?.[0]).toMatch(/^https:\/\//);
    // The proxy serves its public certificate and writes to the origins with its own.
    expect(proxy.tls).toEqual({
      server: {
        certFile: '/etc/kraken/secrets/registry-example-com/tls.crt',
        keyFile: '/etc/kraken/secrets/registry-example-com/tls.key',
      },
      client: files('kraken-proxy-tls'),
    });
    expect(agent.tls).toEqual({ client: shared });
    expect(agent.p2p).toMatchObject({ tls: shared });
  });

  it('gives the origins and each build-index node their place in S3, without credentials', () => {
    const { origins, buildIndex } = renderComponentConfigs(s3Cluster());
    expect(origins[0]?.storage).toEqual({
      type: 's3',
      bucket: 'kraken-blobs',
      prefix: 'prod/origin',
      region: 'eu-west-1',
      forcePathStyle: false,
      partSizeBytes: 16 * 1024 * 1024,
      queueSize: 4,
      maxAttempts: 3,
    });
    expect(buildIndex.map((c) => (c.storage as { prefix: string }).prefix)).toEqual([
      'prod/build-index-0',
      'prod/build-index-1',
    ]);
  });

  it('keeps the build-index on its volume when the storage is read-only', () => {
    const { origins, buildIndex } = renderComponentConfigs(
      krakenCluster({ storage: { type: 'registry', url: 'https://registry.example.com' } }),
    );
    expect(origins[0]?.storage).toMatchObject({ type: 'registry' });
    expect(buildIndex[0]?.storage).toEqual({ type: 'filesystem', root: '/var/lib/kraken/store' });
  });

  it('mirrors upstreams on the origins with mounted credentials, and on the agents by name', () => {
    const { origins, agent } = renderComponentConfigs(upstreamsCluster());
    expect(origins[0]?.upstreams).toEqual([
      { name: 'docker.io', url: 'https://registry-1.docker.io' },
      {
        name: 'ghcr.io',
        url: 'https://ghcr.io',
        credentialsFile: '/etc/kraken/secrets/ghcr-pull/credentials.json',
      },
    ]);
    expect(agent.mirror).toEqual({
      upstreams: [{ name: 'docker.io' }, { name: 'ghcr.io' }],
      pushRegistries: ['registry.example.com'],
    });
    expect(agent.p2p).toMatchObject({ clusterTokenFile: '/etc/kraken/secrets/kraken-p2p/token' });
    expect(origins[0]?.p2p).toMatchObject({ clusterTokenFile: '/etc/kraken/secrets/kraken-p2p/token' });
  });

  it('authenticates pushes with the mounted htpasswd and groups files', () => {
    const { proxy } = renderComponentConfigs(authCluster());
    expect(proxy.auth).toEqual({
      htpasswd: {
        file: '/etc/kraken/secrets/registry-users/htpasswd',
        groupsFile: '/etc/kraken/secrets/registry-users/groups',
        realm: 'kraken',
      },
      rules: [{ repositories: ['**'], users: [], groups: ['ci'], actions: ['pull', 'push'] }],
      anonymousPull: ['public/**'],
    });
  });

  it('takes a token issuer key from a Secret', () => {
    const { proxy } = renderComponentConfigs(
      krakenCluster({
        proxy: {
          auth: {
            token: {
              realm: 'https://auth.example.com/token',
              service: 'registry.example.com',
              issuer: 'auth.example.com',
              publicKey: { name: 'token-issuer' },
            },
          },
        },
      }),
    );
    expect(proxy.auth?.token).toMatchObject({ publicKeyFile: '/etc/kraken/secrets/token-issuer/tls.crt' });
  });
});
