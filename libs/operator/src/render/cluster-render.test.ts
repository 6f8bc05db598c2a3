import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { originConfigSchema } from '@kraken/component-configs';
import { InvalidSpecError } from '../errors.js';
import {
  authCluster,
  krakenCluster,
  minimalCluster,
  s3Cluster,
  tlsCluster,
  upstreamsCluster,
} from '../testing/kraken-cluster-fixtures.js';
import { renderCluster } from './cluster-render.js';
import type { RenderedObject } from './object-meta.js';
import { CONFIG_HASH_ANNOTATION } from './pod-template.js';

const find = (objects: readonly RenderedObject[], kind: string, name: string) => {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (object === undefined) throw new Error(`no ${kind} ${name}`);
  return object;
};

function hashes(objects: readonly RenderedObject[]): Record<string, string | undefined> {
  return Object.fromEntries(
    objects
      .filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment' || o.kind === 'DaemonSet')
      .map((o) => [
        o.metadata.name,
        (o.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata
          .annotations[CONFIG_HASH_ANNOTATION],
      ]),
  );
}

describe('renderCluster', () => {
  it('renders every object of the cluster, in apply order', () => {
    const { objects } = renderCluster(minimalCluster());
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/kraken-origin-config',
      'ConfigMap/kraken-tracker-config',
      'ConfigMap/kraken-build-index-config',
      'ConfigMap/kraken-proxy-config',
      'ConfigMap/kraken-agent-config',
      'Service/kraken-origin-headless',
      'Service/kraken-origin',
      'Service/kraken-tracker-headless',
      'Service/kraken-tracker',
      'Service/kraken-build-index-headless',
      'Service/kraken-build-index',
      'Service/kraken-proxy',
      'PodDisruptionBudget/kraken-origin',
      'PodDisruptionBudget/kraken-tracker',
      'PodDisruptionBudget/kraken-build-index',
      'StatefulSet/kraken-origin',
      'StatefulSet/kraken-tracker',
      'StatefulSet/kraken-build-index',
      'Deployment/kraken-proxy',
      'DaemonSet/kraken-agent',
    ]);
  });

  it('puts every object in the namespace, labelled and owned by the cluster', () => {
    for (const object of renderCluster(minimalCluster()).objects) {
      expect(object.apiVersion).toBeTruthy();
      expect(object.metadata.namespace).toBe('registry');
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'kraken',
        'app.kubernetes.io/instance': 'kraken',
        'app.kubernetes.io/managed-by': 'kraken-operator',
      });
      expect(object.metadata.labels['app.kubernetes.io/component']).toMatch(
        /^(origin|tracker|build-index|proxy|agent)$/,
      );
      expect(object.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'kraken.dev/v1alpha1',
          kind: 'KrakenCluster',
          name: 'kraken',
          uid: 'uid-kraken',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });

  it('holds one validated config per ring member, and renders the same bytes twice', () => {
    const first = renderCluster(tlsCluster());
    const origins = find(first.objects, 'ConfigMap', 'kraken-origin-config') as {
      data: Record<string, string>;
    };
    expect(Object.keys(origins.data)).toEqual([
      'kraken-origin-0.yaml',
      'kraken-origin-1.yaml',
      'kraken-origin-2.yaml',
    ]);
    const parsed = originConfigSchema.parse(parse(origins.data['kraken-origin-2.yaml'] ?? ''));
    expect(parsed.replication.self).toBe('kraken-origin-2.kraken-origin-headless.registry.svc:15002');
    expect(JSON.stringify(renderCluster(tlsCluster()))).toBe(JSON.stringify(first));
  });

  it('rolls exactly the pods whose config changed', () => {
    const before = hashes(renderCluster(minimalCluster()).objects);
    const proxyOnly = hashes(
      renderCluster(krakenCluster({ proxy: { auth: { anonymousPull: [] }, replicas: 5 } })).objects,
    );
    expect(proxyOnly).toEqual(before);
    const agentsOnly = hashes(renderCluster(krakenCluster({ agents: { cache: { size: '20Gi' } } })).objects);
    expect(Object.keys(agentsOnly).filter((name) => agentsOnly[name] !== before[name])).toEqual([
      'kraken-agent',
    ]);
    // A bigger origin ring changes every file that lists it, the origins' own included.
    const moreOrigins = hashes(renderCluster(krakenCluster({ origins: { replicas: 4 } })).objects);
    expect(
      Object.keys(moreOrigins)
        .filter((name) => moreOrigins[name] !== before[name])
        .sort(),
    ).toEqual(['kraken-agent', 'kraken-build-index', 'kraken-origin', 'kraken-proxy', 'kraken-tracker']);
    // A Secret's name counts; rotation of its content is the components' to reload.
    const a = hashes(renderCluster(upstreamsCluster()).objects);
    const renamed = upstreamsCluster();
    const b = hashes(
      renderCluster({ ...renamed, spec: { ...renamed.spec, p2p: { clusterToken: { name: 'other' } } } })
        .objects,
    );
    expect(
      Object.keys(b)
        .filter((name) => b[name] !== a[name])
        .sort(),
    ).toEqual(['kraken-agent', 'kraken-origin']);
  });

  it('lists the Secret keys it needs with the fields naming them', () => {
    expect(renderCluster(minimalCluster()).secretRefs).toEqual([]);
    expect(renderCluster(s3Cluster()).secretRefs).toEqual([
      { name: 'kraken-s3', key: 'accessKeyId', field: 'spec.storage.credentials.accessKeyId' },
      { name: 'kraken-s3', key: 'secretAccessKey', field: 'spec.storage.credentials.secretAccessKey' },
    ]);
    expect(renderCluster(authCluster()).secretRefs).toEqual([
      { name: 'registry-users', key: 'groups', field: 'spec.proxy.auth.htpasswd.groups' },
      { name: 'registry-users', key: 'htpasswd', field: 'spec.proxy.auth.htpasswd.secret' },
    ]);
    const tls = renderCluster(tlsCluster()).secretRefs;
    expect(tls).toContainEqual({ name: 'kraken-tls', key: 'ca.crt', field: 'spec.tls.secretName' });
    expect(tls).toContainEqual({ name: 'kraken-proxy-tls', key: 'tls.key', field: 'spec.tls.proxy' });
    expect(tls).toContainEqual({
      name: 'registry-example-com',
      key: 'tls.crt',
      field: 'spec.proxy.tls.secretName',
    });
  });

  it('gives the S3 keys as environment variables, never in a ConfigMap', () => {
    const { objects } = renderCluster(s3Cluster());
    const origin = find(objects, 'StatefulSet', 'kraken-origin') as {
      spec: { template: { spec: { containers: Array<{ env: unknown[] }> } } };
    };
    expect(origin.spec.template.spec.containers[0]?.env).toContainEqual({
      name: 'AWS_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: 'kraken-s3', key: 'secretAccessKey' } },
    });
    for (const object of objects)
      if (object.kind === 'ConfigMap') expect(JSON.stringify(object)).not.toContain('secretAccessKey');
  });

  it('throws naming the field, and renders nothing, for a bad spec', () => {
    const bad = krakenCluster({ origins: { replicas: -1 } });
    expect(() => renderCluster(bad)).toThrow(InvalidSpecError);
    try {
      renderCluster(bad);
    } catch (err) {
      expect((err as InvalidSpecError).field).toBe('spec.origins.replicas');
      expect((err as InvalidSpecError).code).toBe('KRAKEN_OPERATOR_INVALID_SPEC');
    }
    const noUid = minimalCluster();
    expect(() => renderCluster({ ...noUid, metadata: { name: 'kraken', namespace: 'registry' } })).toThrow(
      /metadata\.uid/,
    );
  });
});
