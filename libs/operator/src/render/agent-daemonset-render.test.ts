import { describe, expect, it } from 'vitest';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { krakenCluster, minimalCluster } from '../testing/kraken-cluster-fixtures.js';
import { findObject as get } from '../testing/rendered-objects.js';
import { renderCluster } from './cluster-render.js';

describe('the agent DaemonSet', () => {
  const agents = (cluster = minimalCluster()) =>
    get<V1DaemonSet>(renderCluster(cluster).objects, 'DaemonSet', 'kraken-agent').spec?.template.spec;

  it('runs in the node’s network, node-critical, with the spec’s placement', () => {
    const pod = agents(krakenCluster({ agents: { nodeSelector: { pool: 'build' }, tolerations: [] } }));
    expect(pod).toMatchObject({
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      priorityClassName: 'system-node-critical',
      nodeSelector: { pool: 'build' },
      tolerations: [],
    });
    const container = pod?.containers[0];
    expect(container?.ports).toEqual([
      { name: 'http', containerPort: 16000, protocol: 'TCP' },
      { name: 'p2p', containerPort: 16001, protocol: 'TCP' },
    ]);
    expect(container?.readinessProbe?.httpGet).toMatchObject({ host: '127.0.0.1', port: 16000 });
    expect(pod?.volumes).toContainEqual({
      name: 'data',
      hostPath: { path: '/var/lib/kraken-agent', type: 'DirectoryOrCreate' },
    });
  });

  it('points containerd at the agent in an init container, for the upstreams and push names', () => {
    const pod = agents(
      krakenCluster({
        origins: { upstreams: [{ name: 'docker.io', url: 'https://registry-1.docker.io' }] },
        agents: { pushRegistries: ['registry.example.com'], registryPort: 17000, p2pPort: 17001 },
      }),
    );
    expect(pod?.initContainers?.map((c) => c.name)).toEqual(['prepare-cache', 'setup-containerd']);
    const setup = pod?.initContainers?.[1];
    expect(setup?.args).toEqual([
      'agent',
      'setup-containerd',
      '--config-path',
      '/etc/containerd/certs.d',
      '--mirror',
      'http://127.0.0.1:17000',
      '--registries',
      'docker.io,registry.example.com',
      '--containerd-config',
      '/host/containerd-config/config.toml',
    ]);
    expect(setup?.volumeMounts).toEqual([
      { name: 'containerd-hosts', mountPath: '/etc/containerd/certs.d' },
      { name: 'containerd-config', mountPath: '/host/containerd-config', readOnly: true },
    ]);
    expect(pod?.volumes).toContainEqual({
      name: 'containerd-config',
      hostPath: { path: '/etc/containerd', type: 'Directory' },
    });
    expect(pod?.initContainers?.[0]?.securityContext).toMatchObject({
      runAsUser: 0,
      capabilities: { drop: ['ALL'], add: ['CHOWN'] },
    });
  });

  it('skips the containerd setup with nothing to mirror, or when told to', () => {
    expect(agents()?.initContainers?.map((c) => c.name)).toEqual(['prepare-cache']);
    const off = agents(
      krakenCluster({ agents: { containerd: { setup: false, registries: ['docker.io'] } } }),
    );
    expect(off?.initContainers?.map((c) => c.name)).toEqual(['prepare-cache']);
    expect(off?.volumes?.map((v) => v.name)).not.toContain('containerd-hosts');
  });
});
