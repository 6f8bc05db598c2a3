/**
 * A KrakenCluster to every object it needs, as plain objects in the shape of the
 * Kubernetes API, ready for server-side apply; and the Secret keys those objects use,
 * so that the controller can check them first and report a missing one as Degraded,
 * naming the spec field. Pure: no I/O, and the same cluster renders the same objects.
 * A spec that cannot be rendered throws InvalidSpecError before anything is returned.
 *
 * Objects come in apply order: ConfigMaps, then Services and budgets, then workloads.
 */
import { InvalidSpecError } from '../errors.js';
import { KRAKEN_CLUSTER_KIND } from '../api/v1alpha1/group-version.js';
import type { KrakenCluster } from '../api/v1alpha1/kraken-cluster-types.js';
import { clusterIdOf, validateKrakenCluster } from '../api/v1alpha1/kraken-cluster-validation.js';
import { renderAgents } from './agent-daemonset-render.js';
import { PORTS, memberPodName, type Component } from './component-names.js';
import { componentConfigs } from './config-render.js';
import { configHash } from './config-hash.js';
import { configMap } from './configmap-render.js';
import type { Owner, RenderedObject } from './object-meta.js';
import { renderProxy } from './proxy-render.js';
import { componentSecrets, dedupe, type SecretReference } from './secret-mounts.js';
import { renderRing } from './statefulset-render.js';

export interface RenderedCluster {
  readonly objects: readonly RenderedObject[];
  /** Every Secret key the objects use, with the spec field naming it. */
  readonly secretRefs: readonly SecretReference[];
}

export interface RenderOptions {
  /** The identity the operator's client certificate names, allowed to write replication rules; default `operator`. */
  readonly operatorIdentity?: string;
}

const KIND_ORDER = ['ConfigMap', 'Service', 'PodDisruptionBudget', 'StatefulSet', 'Deployment', 'DaemonSet'];

export function renderCluster(
  cluster: Pick<KrakenCluster, 'metadata' | 'spec'>,
  options: RenderOptions = {},
): RenderedCluster {
  const spec = validateKrakenCluster(cluster);
  const { name, namespace, uid } = cluster.metadata;
  if (uid === undefined || uid === '')
    throw new InvalidSpecError(KRAKEN_CLUSTER_KIND, [
      {
        field: 'metadata.uid',
        message: 'missing: the owner references need the uid the API server gave the cluster',
      },
    ]);
  const owner: Owner = { name, namespace, uid };
  const configs = componentConfigs({
    cluster: owner,
    spec,
    clusterId: clusterIdOf(cluster, spec),
    addressing: options.operatorIdentity === undefined ? {} : { operatorIdentity: options.operatorIdentity },
  });
  const secrets = Object.fromEntries(
    (['origin', 'tracker', 'build-index', 'proxy', 'agent'] as const).map((c) => [
      c,
      componentSecrets(spec, c),
    ]),
  ) as Record<Component, ReturnType<typeof componentSecrets>>;

  const files: Record<Component, Record<string, unknown>> = {
    origin: Object.fromEntries(
      configs.origins.map((c, i) => [`${memberPodName(owner, 'origin', i)}.yaml`, c]),
    ),
    tracker: { 'tracker.yaml': configs.trackers[0] },
    'build-index': Object.fromEntries(
      configs.buildIndex.map((c, i) => [`${memberPodName(owner, 'build-index', i)}.yaml`, c]),
    ),
    proxy: { 'proxy.yaml': configs.proxy },
    agent: { 'agent.yaml': configs.agent },
  };
  const configMaps = (Object.keys(files) as Component[]).map((c) => configMap(owner, c, files[c]));
  const hash = (component: Component) => {
    const data =
      configMaps.find((m) => m.metadata.labels['app.kubernetes.io/component'] === component)?.data ?? {};
    return configHash(
      data,
      secrets[component].refs.map((r) => r.name),
    );
  };

  const objects: RenderedObject[] = [
    ...configMaps,
    ...renderRing(owner, {
      component: 'origin',
      spec,
      replicas: spec.origins.replicas,
      resources: spec.origins.resources,
      httpPort: PORTS.origin,
      p2pPort: PORTS.originP2p,
      volume: spec.origins.volume,
      secrets: secrets.origin,
      configHash: hash('origin'),
    }),
    ...renderRing(owner, {
      component: 'tracker',
      spec,
      replicas: spec.trackers.replicas,
      resources: spec.trackers.resources,
      httpPort: PORTS.tracker,
      secrets: secrets.tracker,
      configHash: hash('tracker'),
    }),
    ...renderRing(owner, {
      component: 'build-index',
      spec,
      replicas: spec.buildIndex.replicas,
      resources: spec.buildIndex.resources,
      httpPort: PORTS.buildIndex,
      volume: spec.buildIndex.volume,
      secrets: secrets['build-index'],
      configHash: hash('build-index'),
    }),
    ...renderProxy(owner, { spec, secrets: secrets.proxy, configHash: hash('proxy') }),
    renderAgents(owner, { spec, secrets: secrets.agent, configHash: hash('agent') }),
  ];
  const order = (o: RenderedObject) => KIND_ORDER.indexOf(o.kind);
  return {
    objects: objects
      .map((o, i) => ({ o, i }))
      .sort((a, b) => order(a.o) - order(b.o) || a.i - b.i)
      .map(({ o }) => o),
    secretRefs: dedupe(Object.values(secrets).flatMap((s) => s.refs)),
  };
}
