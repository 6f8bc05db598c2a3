/**
 * The agents: a DaemonSet in the node's network namespace (hostNetwork), so that
 * containerd reaches the registry on the node's localhost and peers reach the P2P port
 * at the node's address; ClusterFirstWithHostNet keeps cluster DNS for the rings. Two
 * init containers prepare the node, the only steps that run as root: one gives the
 * cache directory on the node to the agent user, one runs `kraken agent
 * setup-containerd` to write containerd's hosts.toml files (config_path) pointing at
 * the agent. system-node-critical keeps the agent on nodes under pressure: every pull
 * of the node goes through it.
 */
import { posix } from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import type { KrakenClusterSpec } from '../api/v1alpha1/kraken-cluster-types.js';
import { configMapName, selectorLabels, workloadName } from './component-names.js';
import { DATA_DIR } from './config-render.js';
import { objectMeta, type Owner, type RenderedDaemonSet } from './object-meta.js';
import {
  CONFIG_HASH_ANNOTATION,
  DATA_VOLUME,
  KRAKEN_UID,
  componentContainer,
  imagePullSecrets,
  podSecurityContext,
  podVolumes,
} from './pod-template.js';
import type { ComponentSecrets } from './secret-mounts.js';

const HOST_CONTAINERD_CONFIG_DIR = '/host/containerd-config';

/** The registries containerd pulls through the agents: the spec's, or every upstream and push name. */
export function mirroredRegistries(spec: KrakenClusterSpec): string[] {
  const explicit = spec.agents.containerd.registries;
  const names =
    explicit.length > 0
      ? explicit
      : [...spec.origins.upstreams.map((u) => u.name), ...spec.agents.pushRegistries];
  return [...new Set(names)];
}

/** Root, but with nothing beyond owning what it touches (no privilege, no capability but those named). */
function rootContext(capabilities: string[]) {
  return {
    runAsUser: 0,
    runAsGroup: 0,
    runAsNonRoot: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'], ...(capabilities.length > 0 ? { add: capabilities } : {}) },
  };
}

export function renderAgents(
  owner: Owner,
  options: {
    readonly spec: KrakenClusterSpec;
    readonly secrets: ComponentSecrets;
    readonly configHash: string;
  },
): RenderedDaemonSet {
  const { spec } = options;
  const agents = spec.agents;
  const selector = selectorLabels(owner, 'agent');
  const registries = mirroredRegistries(spec);
  const containerdConfigDir = posix.dirname(agents.containerd.configFile);
  const initContainers: V1Container[] = [
    {
      // The image has no shell: its Node.js makes the directory the agent's.
      name: 'prepare-cache',
      image: spec.image,
      imagePullPolicy: spec.imagePullPolicy,
      command: [
        '/usr/bin/node',
        '-e',
        'require("node:fs").chownSync(process.argv[1], +process.argv[2], +process.argv[2])',
        DATA_DIR,
        String(KRAKEN_UID),
      ],
      volumeMounts: [{ name: DATA_VOLUME, mountPath: DATA_DIR }],
      securityContext: rootContext(['CHOWN']),
    },
  ];
  if (agents.containerd.setup && registries.length > 0)
    initContainers.push({
      name: 'setup-containerd',
      image: spec.image,
      imagePullPolicy: spec.imagePullPolicy,
      args: [
        'agent',
        'setup-containerd',
        '--config-path',
        agents.containerd.configPath,
        '--mirror',
        `http://127.0.0.1:${agents.registryPort}`,
        '--registries',
        registries.join(','),
        '--containerd-config',
        `${HOST_CONTAINERD_CONFIG_DIR}/${posix.basename(agents.containerd.configFile)}`,
      ],
      volumeMounts: [
        { name: 'containerd-hosts', mountPath: agents.containerd.configPath },
        { name: 'containerd-config', mountPath: HOST_CONTAINERD_CONFIG_DIR, readOnly: true },
      ],
      // hosts.toml files belong to root, as the rest of containerd's config.
      securityContext: rootContext([]),
    });
  const setup = initContainers.length > 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: objectMeta(owner, 'agent', workloadName(owner, 'agent')),
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: selector, annotations: { [CONFIG_HASH_ANNOTATION]: options.configHash } },
        spec: {
          ...imagePullSecrets(spec),
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          priorityClassName: 'system-node-critical',
          securityContext: podSecurityContext(),
          nodeSelector: agents.nodeSelector,
          tolerations: agents.tolerations,
          terminationGracePeriodSeconds: 30,
          initContainers,
          containers: [
            componentContainer({
              component: 'agent',
              spec,
              resources: agents.resources,
              httpPort: agents.registryPort,
              p2pPort: agents.p2pPort,
              secrets: options.secrets,
              perPodConfig: false,
              extraMounts: [{ name: DATA_VOLUME, mountPath: DATA_DIR }],
              // The registry listens on the node's loopback, where the kubelet probes it.
              probeHost: '127.0.0.1',
            }),
          ],
          volumes: podVolumes(configMapName(owner, 'agent'), options.secrets, [
            { name: DATA_VOLUME, hostPath: { path: agents.cache.hostPath, type: 'DirectoryOrCreate' } },
            ...(setup
              ? [
                  {
                    name: 'containerd-hosts',
                    hostPath: { path: agents.containerd.configPath, type: 'DirectoryOrCreate' },
                  },
                  { name: 'containerd-config', hostPath: { path: containerdConfigDir, type: 'Directory' } },
                ]
              : []),
          ]),
        },
      },
    },
  };
}
