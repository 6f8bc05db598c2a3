/**
 * The proxy: a Deployment (it keeps nothing but uploads in flight and a blob cache, on
 * an emptyDir) and the Service pushes come through, of the type the spec asks for.
 * Rollouts add a pod before removing one, so pushes keep a ready proxy.
 */
import type { KrakenClusterSpec } from '../api/v1alpha1/kraken-cluster-types.js';
import { PORTS, configMapName, selectorLabels, workloadName } from './component-names.js';
import { DATA_DIR } from './config-render.js';
import { objectMeta, type Owner, type RenderedObject } from './object-meta.js';
import {
  CONFIG_HASH_ANNOTATION,
  DATA_VOLUME,
  componentContainer,
  imagePullSecrets,
  podSecurityContext,
  podVolumes,
} from './pod-template.js';
import type { ComponentSecrets } from './secret-mounts.js';
import { spreadAcrossNodes } from './statefulset-render.js';

export function renderProxy(
  owner: Owner,
  options: {
    readonly spec: KrakenClusterSpec;
    readonly secrets: ComponentSecrets;
    readonly configHash: string;
  },
): RenderedObject[] {
  const { spec } = options;
  const name = workloadName(owner, 'proxy');
  const selector = selectorLabels(owner, 'proxy');
  const service = spec.proxy.service;
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: objectMeta(owner, 'proxy', name),
      spec: {
        replicas: spec.proxy.replicas,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: selector, annotations: { [CONFIG_HASH_ANNOTATION]: options.configHash } },
          spec: {
            ...imagePullSecrets(spec),
            securityContext: podSecurityContext(),
            affinity: spreadAcrossNodes(selector),
            terminationGracePeriodSeconds: 60,
            containers: [
              componentContainer({
                component: 'proxy',
                spec,
                resources: spec.proxy.resources,
                httpPort: PORTS.proxy,
                secrets: options.secrets,
                perPodConfig: false,
                extraMounts: [{ name: DATA_VOLUME, mountPath: DATA_DIR }],
              }),
            ],
            volumes: podVolumes(configMapName(owner, 'proxy'), options.secrets, [
              { name: DATA_VOLUME, emptyDir: {} },
            ]),
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: objectMeta(owner, 'proxy', name),
      spec: {
        type: service.type,
        selector,
        ports: [
          {
            name: 'http',
            port: service.port,
            targetPort: 'http',
            protocol: 'TCP',
            ...(service.nodePort === undefined ? {} : { nodePort: service.nodePort }),
          },
        ],
      },
    },
  ];
}
