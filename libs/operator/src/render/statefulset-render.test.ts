import { describe, expect, it } from 'vitest';
import type { V1PodDisruptionBudget, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { krakenCluster, tlsCluster } from '../testing/kraken-cluster-fixtures.js';
import { renderCluster } from './cluster-render.js';
import { findObject as get } from '../testing/rendered-objects.js';

describe('ring StatefulSets', () => {
  const { objects } = renderCluster(
    krakenCluster({
      origins: {
        volume: { size: '200Gi', storageClassName: 'fast' },
        resources: { limits: { memory: '2Gi' } },
      },
    }),
  );
  const origin = get<V1StatefulSet>(objects, 'StatefulSet', 'kraken-origin');
  const pod = origin.spec?.template.spec;
  const container = pod?.containers[0];

  it('give each member its DNS name through a headless Service that publishes unready pods', () => {
    expect(origin.spec?.serviceName).toBe('kraken-origin-headless');
    const headless = get<V1Service>(objects, 'Service', 'kraken-origin-headless');
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(headless.spec?.ports?.map((p) => [p.name, p.port])).toEqual([
      ['http', 15002],
      ['p2p', 15001],
    ]);
    expect(get<V1Service>(objects, 'Service', 'kraken-origin').spec?.type).toBe('ClusterIP');
    expect(origin.spec?.selector.matchLabels).toEqual(origin.spec?.template.metadata?.labels);
  });

  it('claim a volume per member and allow one member down at a time', () => {
    expect(origin.spec?.volumeClaimTemplates?.[0]?.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '200Gi' } },
      storageClassName: 'fast',
    });
    expect(container?.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/kraken' });
    expect(get<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget', 'kraken-origin').spec).toMatchObject({
      maxUnavailable: 1,
    });
    const tracker = get<V1StatefulSet>(objects, 'StatefulSet', 'kraken-tracker');
    expect(tracker.spec?.volumeClaimTemplates).toBeUndefined();
  });

  it('run `kraken origin --config /etc/kraken/origin.yaml` on the member’s own file', () => {
    expect(container?.args).toEqual(['origin', '--config', '/etc/kraken/origin.yaml']);
    expect(container?.image).toBe('registry.example.com/kraken:0.1.0');
    expect(container?.volumeMounts?.[0]).toEqual({
      name: 'config',
      mountPath: '/etc/kraken/origin.yaml',
      readOnly: true,
      subPathExpr: '$(POD_NAME).yaml',
    });
    expect(container?.env?.[0]).toEqual({
      name: 'POD_NAME',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    const tracker = get<V1StatefulSet>(objects, 'StatefulSet', 'kraken-tracker').spec?.template.spec
      ?.containers[0];
    expect(tracker?.volumeMounts?.[0]).toMatchObject({
      mountPath: '/etc/kraken/tracker.yaml',
      subPath: 'tracker.yaml',
    });
  });

  it('probe /health and /readiness, run as uid 65532 on a read-only root, with the spec’s resources', () => {
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/health', port: 15002, scheme: 'HTTP' });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readiness', port: 15002, scheme: 'HTTP' });
    expect(container?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(pod?.securityContext).toMatchObject({ fsGroup: 65532 });
    expect(container?.resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '2Gi' },
    });
  });

  it('probe over HTTPS and mount the TLS Secret whole with TLS on', () => {
    const tls = get<V1StatefulSet>(renderCluster(tlsCluster()).objects, 'StatefulSet', 'kraken-build-index');
    const c = tls.spec?.template.spec?.containers[0];
    expect(c?.readinessProbe?.httpGet?.scheme).toBe('HTTPS');
    expect(c?.volumeMounts).toContainEqual({
      name: 'secret-0',
      mountPath: '/etc/kraken/secrets/kraken-tls',
      readOnly: true,
    });
    expect(tls.spec?.template.spec?.volumes).toContainEqual({
      name: 'secret-0',
      secret: { secretName: 'kraken-tls', defaultMode: 0o440 },
    });
  });
});
