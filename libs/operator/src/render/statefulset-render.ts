/**
 * The rings: origins, trackers and build-index, each a StatefulSet (stable pod names,
 * the ring's member ids; see component-names.ts) with a headless Service that gives
 * every pod its DNS name, a Service for clients that want any member, and a
 * PodDisruptionBudget that lets a drain take one member at a time. Origins and
 * build-index nodes claim a volume each; trackers keep nothing.
 */
import type { V1PersistentVolumeClaim, V1ServicePort } from '@kubernetes/client-node';
import type { KrakenClusterSpec } from '../api/v1alpha1/kraken-cluster-types.js';
import type { Resources } from '../api/v1alpha1/core-types.js';
import { quantityString, type Quantity } from '../api/v1alpha1/quantity.js';
import {
  configMapName,
  headlessServiceName,
  selectorLabels,
  workloadName,
  type RingComponent,
} from './component-names.js';
import { objectMeta, type Owner, type RenderedObject } from './object-meta.js';
import {
  CONFIG_HASH_ANNOTATION,
  DATA_VOLUME,
  componentContainer,
  imagePullSecrets,
  podSecurityContext,
  podVolumes,
} from './pod-template.js';
import { DATA_DIR } from './config-render.js';
import type { ComponentSecrets } from './secret-mounts.js';

export interface RingOptions {
  readonly component: RingComponent;
  readonly spec: KrakenClusterSpec;
  readonly replicas: number;
  readonly resources: Resources;
  readonly httpPort: number;
  readonly p2pPort?: number;
  /** A volume per member at /var/lib/kraken; an emptyDir when unset. */
  readonly volume?: { readonly size: Quantity; readonly storageClassName?: string | undefined };
  readonly secrets: ComponentSecrets;
  readonly configHash: string;
}

export function renderRing(owner: Owner, options: RingOptions): RenderedObject[] {
  const { component, spec } = options;
  const name = workloadName(owner, component);
  const selector = selectorLabels(owner, component);
  const ports: V1ServicePort[] = [
    { name: 'http', port: options.httpPort, targetPort: 'http', protocol: 'TCP' },
    ...(options.p2pPort === undefined
      ? []
      : [{ name: 'p2p', port: options.p2pPort, targetPort: 'p2p', protocol: 'TCP' }]),
  ];
  const claim: V1PersistentVolumeClaim | undefined =
    options.volume === undefined
      ? undefined
      : {
          metadata: { name: DATA_VOLUME, labels: selector },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: quantityString(options.volume.size) } },
            ...(options.volume.storageClassName === undefined
              ? {}
              : { storageClassName: options.volume.storageClassName }),
          },
        };
  const container = componentContainer({
    component,
    spec,
    resources: options.resources,
    httpPort: options.httpPort,
    ...(options.p2pPort === undefined ? {} : { p2pPort: options.p2pPort }),
    secrets: options.secrets,
    perPodConfig: component !== 'tracker',
    extraMounts: [{ name: DATA_VOLUME, mountPath: DATA_DIR }],
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: objectMeta(owner, component, headlessServiceName(owner, component)),
      spec: {
        clusterIP: 'None',
        // Members find each other (and clients find them) while they are still starting.
        publishNotReadyAddresses: true,
        selector,
        ports,
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: objectMeta(owner, component, name),
      spec: { type: 'ClusterIP', selector, ports },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: objectMeta(owner, component, name),
      spec: {
        serviceName: headlessServiceName(owner, component),
        replicas: options.replicas,
        // Members are peers: none waits for another to start.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector, annotations: { [CONFIG_HASH_ANNOTATION]: options.configHash } },
          spec: {
            ...imagePullSecrets(spec),
            securityContext: podSecurityContext(),
            affinity: spreadAcrossNodes(selector),
            terminationGracePeriodSeconds: 60,
            containers: [container],
            volumes: podVolumes(
              configMapName(owner, component),
              options.secrets,
              claim === undefined ? [{ name: DATA_VOLUME, emptyDir: {} }] : [],
            ),
          },
        },
        ...(claim === undefined ? {} : { volumeClaimTemplates: [claim] }),
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: objectMeta(owner, component, name),
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    },
  ];
}

/** Prefer one member per node, so that a node's loss costs the ring one member. */
export function spreadAcrossNodes(selector: Record<string, string>) {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: selector },
          },
        },
      ],
    },
  };
}
