import { describe, expect, it } from 'vitest';
import { InvalidSpecError } from '../../errors.js';
import { krakenCluster, minimalCluster } from '../../testing/kraken-cluster-fixtures.js';
import { krakenClusterSpecSchema, type KrakenClusterSpecInput } from './kraken-cluster-types.js';
import { validateKrakenCluster } from './kraken-cluster-validation.js';

/** The fields InvalidSpecError names for `spec`. */
function badFields(spec: unknown, name = 'kraken'): string[] {
  try {
    validateKrakenCluster({
      metadata: { name, namespace: 'registry' },
      spec: spec as KrakenClusterSpecInput,
    });
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSpecError);
    return (err as InvalidSpecError).issues.map((issue) => issue.field);
  }
  return [];
}

const image = 'registry.example.com/kraken:0.1.0';

describe('KrakenCluster spec', () => {
  it('fills every default from the image alone', () => {
    const spec = validateKrakenCluster(minimalCluster());
    expect(spec.origins).toMatchObject({
      replicas: 3,
      ringReplicas: 2,
      volume: { size: '50Gi' },
      upstreams: [],
    });
    expect(spec.trackers.replicas).toBe(2);
    expect(spec.buildIndex).toMatchObject({ replicas: 2, volume: { size: '10Gi' } });
    expect(spec.proxy).toMatchObject({ replicas: 2, service: { type: 'ClusterIP', port: 15000 } });
    expect(spec.agents).toMatchObject({
      registryPort: 16000,
      p2pPort: 16001,
      tolerations: [{ operator: 'Exists' }],
      containerd: { setup: true, configPath: '/etc/containerd/certs.d' },
    });
    expect(spec.storage).toEqual({ type: 'filesystem' });
    expect(spec.tls).toBeUndefined();
  });

  it('refuses a missing image', () => {
    expect(badFields({})).toEqual(['spec.image']);
  });

  it('refuses unknown fields, naming each', () => {
    expect(badFields({ image, origins: { replica: 3 }, extra: true })).toEqual([
      'spec.origins.replica',
      'spec.extra',
    ]);
  });

  it('refuses negative replicas, and a ring without members', () => {
    expect(badFields({ image, origins: { replicas: -1 } })).toEqual(['spec.origins.replicas']);
    expect(badFields({ image, proxy: { replicas: -2 } })).toEqual(['spec.proxy.replicas']);
    expect(badFields({ image, trackers: { replicas: 0 } })).toEqual(['spec.trackers.replicas']);
    expect(badFields({ image, proxy: { replicas: 0 } })).toEqual([]);
  });

  it('refuses a bad quantity', () => {
    expect(badFields({ image, origins: { volume: { size: '10 GB' } } })).toEqual([
      'spec.origins.volume.size',
    ]);
    expect(badFields({ image, origins: { resources: { requests: { cpu: 'lots' } } } })).toEqual([
      'spec.origins.resources.requests.cpu',
    ]);
  });

  it('names an array element', () => {
    expect(badFields({ image, origins: { upstreams: [{ name: 'docker.io', url: 'not a url' }] } })).toEqual([
      'spec.origins.upstreams[0].url',
    ]);
  });

  it('refuses fields that contradict each other', () => {
    expect(badFields({ image, origins: { replicas: 1, ringReplicas: 2 } })).toEqual([
      'spec.origins.ringReplicas',
    ]);
    expect(badFields({ image, origins: { cacheSize: '100Gi', volume: { size: '50Gi' } } })).toEqual([
      'spec.origins.cacheSize',
    ]);
    expect(badFields({ image, tls: { origins: 'origin-tls' } })).toEqual([
      'spec.tls.trackers',
      'spec.tls.buildIndex',
      'spec.tls.proxy',
      'spec.tls.agents',
    ]);
    expect(badFields({ image, proxy: { service: { nodePort: 30000 } } })).toEqual([
      'spec.proxy.service.nodePort',
    ]);
    expect(badFields({ image, agents: { registryPort: 16001 } })).toEqual(['spec.agents.p2pPort']);
    expect(
      badFields({
        image,
        proxy: { auth: { rules: [{ repositories: ['**'], users: ['*'], actions: ['pull'] }] } },
      }),
    ).toEqual(['spec.proxy.auth.rules']);
  });

  it('refuses a name the derived objects cannot carry', () => {
    expect(badFields({ image }, 'x'.repeat(43))).toEqual(['metadata.name']);
    expect(badFields({ image }, 'dotted.name')).toContain('metadata.name');
    expect(badFields({ image }, 'x'.repeat(42))).toEqual([]);
  });

  it('keeps credentials out of the storage spec', () => {
    const parsed = krakenClusterSpecSchema.safeParse({
      image,
      storage: { type: 's3', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' } },
    });
    expect(parsed.success).toBe(false);
    expect(
      badFields({ image, storage: { type: 'registry', url: 'https://r.example.com', password: 'x' } }),
    ).toEqual(['spec.storage.password']);
  });

  it('takes the error message with the field', () => {
    expect(() => validateKrakenCluster(krakenCluster({ origins: { replicas: -1 } }))).toThrow(
      /invalid KrakenCluster: spec\.origins\.replicas: /,
    );
  });
});
