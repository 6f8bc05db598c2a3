/**
 * The parts every component's pod shares: the container running `kraken <component>
 * --config /etc/kraken/<component>.yaml` (the image's entry point takes the rest), its
 * probes on the component's HTTP port, a locked-down security context (uid 65532, the
 * image's `kraken` user, read-only root filesystem with an emptyDir /tmp), its config
 * file from the component's ConfigMap, its Secrets, and the annotation that rolls the
 * pods when any of that changes.
 */
import type {
  V1Container,
  V1EnvVar,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { KrakenClusterSpec } from '../api/v1alpha1/kraken-cluster-types.js';
import type { Resources } from '../api/v1alpha1/core-types.js';
import { quantityString } from '../api/v1alpha1/quantity.js';
import type { Component } from './component-names.js';
import { SECRETS_DIR, type ComponentSecrets } from './secret-mounts.js';

/** The image's `kraken` user and group. */
export const KRAKEN_UID = 65532;
export const CONFIG_HASH_ANNOTATION = 'kraken.dev/config-hash';
export const CONFIG_DIR = '/etc/kraken';
export const CONFIG_VOLUME = 'config';
export const DATA_VOLUME = 'data';

export function containerSecurityContext(): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: KRAKEN_UID,
    runAsGroup: KRAKEN_UID,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function podSecurityContext(): V1PodSecurityContext {
  // fsGroup makes fresh volumes writable by the kraken user; OnRootMismatch skips the walk once they are.
  return {
    runAsNonRoot: true,
    runAsUser: KRAKEN_UID,
    runAsGroup: KRAKEN_UID,
    fsGroup: KRAKEN_UID,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function resourceRequirements(resources: Resources): V1ResourceRequirements {
  const list = (quantities: Readonly<Record<string, number | string>>) =>
    Object.fromEntries(
      Object.entries(quantities)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, quantity]) => [name, quantityString(quantity)]),
    );
  return {
    requests: list(resources.requests),
    ...(resources.limits === undefined ? {} : { limits: list(resources.limits) }),
  };
}

function httpProbe(
  options: { path: string; port: number; https: boolean; host?: string },
  timing: Partial<V1Probe>,
): V1Probe {
  return {
    httpGet: {
      path: options.path,
      port: options.port,
      scheme: options.https ? 'HTTPS' : 'HTTP',
      ...(options.host === undefined ? {} : { host: options.host }),
    },
    timeoutSeconds: 2,
    ...timing,
  };
}

/** Secret volumes, one per mounted Secret, named by their order. */
export function secretVolumes(secrets: ComponentSecrets): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes = secrets.mounted.map((secretName, i) => ({
    name: `secret-${i}`,
    secret: { secretName, defaultMode: 0o440 },
  }));
  const mounts = secrets.mounted.map((secretName, i) => ({
    name: `secret-${i}`,
    mountPath: `${SECRETS_DIR}/${secretName}`,
    readOnly: true,
  }));
  return { volumes, mounts };
}

export function secretEnv(secrets: ComponentSecrets): V1EnvVar[] {
  return secrets.env.map(({ name, secret }) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret.name, key: secret.key } },
  }));
}

export interface ContainerOptions {
  readonly component: Component;
  readonly spec: KrakenClusterSpec;
  readonly resources: Resources;
  readonly httpPort: number;
  readonly p2pPort?: number;
  readonly secrets: ComponentSecrets;
  /** `$(POD_NAME).yaml`: each ring member reads its own file of the ConfigMap; else `<component>.yaml`. */
  readonly perPodConfig: boolean;
  readonly extraMounts?: readonly V1VolumeMount[];
  /** Host the kubelet probes; the pod IP when unset. */
  readonly probeHost?: string;
}

/** The component's container; the config file is at /etc/kraken/<component>.yaml either way. */
export function componentContainer(options: ContainerOptions): V1Container {
  const { component, spec } = options;
  const configFile = `${CONFIG_DIR}/${component}.yaml`;
  const https = spec.tls !== undefined && component !== 'agent';
  const probe = (path: string) => ({
    path,
    port: options.httpPort,
    https,
    ...(options.probeHost === undefined ? {} : { host: options.probeHost }),
  });
  const env: V1EnvVar[] = [
    ...(options.perPodConfig
      ? [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]
      : []),
    ...secretEnv(options.secrets),
  ];
  return {
    name: component,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    args: [component, '--config', configFile],
    ports: [
      { name: 'http', containerPort: options.httpPort, protocol: 'TCP' },
      ...(options.p2pPort === undefined
        ? []
        : [{ name: 'p2p', containerPort: options.p2pPort, protocol: 'TCP' }]),
    ],
    ...(env.length > 0 ? { env } : {}),
    volumeMounts: [
      {
        name: CONFIG_VOLUME,
        mountPath: configFile,
        readOnly: true,
        // A config change rolls the pods (config-hash), so a file frozen by subPath is fine.
        ...(options.perPodConfig ? { subPathExpr: '$(POD_NAME).yaml' } : { subPath: `${component}.yaml` }),
      },
      { name: 'tmp', mountPath: '/tmp' },
      ...(options.extraMounts ?? []),
      ...secretVolumes(options.secrets).mounts,
    ],
    livenessProbe: httpProbe(probe('/health'), { periodSeconds: 10, failureThreshold: 6 }),
    readinessProbe: httpProbe(probe('/readiness'), { periodSeconds: 5, failureThreshold: 3 }),
    resources: resourceRequirements(options.resources),
    securityContext: containerSecurityContext(),
  };
}

/** The volumes beside the container's: its ConfigMap, /tmp, and its Secrets. */
export function podVolumes(
  configMap: string,
  secrets: ComponentSecrets,
  extra: readonly V1Volume[] = [],
): V1Volume[] {
  return [
    { name: CONFIG_VOLUME, configMap: { name: configMap } },
    { name: 'tmp', emptyDir: {} },
    ...extra,
    ...secretVolumes(secrets).volumes,
  ];
}

export function imagePullSecrets(spec: KrakenClusterSpec): { imagePullSecrets?: Array<{ name: string }> } {
  return spec.imagePullSecrets.length === 0
    ? {}
    : { imagePullSecrets: spec.imagePullSecrets.map(({ name }) => ({ name })) };
}
