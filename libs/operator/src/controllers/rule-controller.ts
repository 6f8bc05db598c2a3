/**
 * The ReplicationRule controller: keeps rule `rr-<name>` on the source KrakenCluster's
 * build-index equal to the resource, and the resource's status equal to what the
 * build-index nodes report of it. The build-index replicates rules among its nodes, so
 * the rule is written to the first node that answers. A finalizer holds the resource
 * until the rule is gone from the build-index; when the source cluster is gone (or
 * going), there is nothing left to remove and the finalizer goes at once.
 *
 * Replication progress is not an event the API server sees, so the status is polled:
 * every reconcile of a rule asks to run again after `statusIntervalMs`.
 */
import type { Clock } from '@kraken/foundation';
import type { Logger } from '@kraken/service-kit';
import { REPLICATION_RULE_REASONS as REASONS } from '../api/v1alpha1/conditions.js';
import type { KrakenCluster } from '../api/v1alpha1/kraken-cluster-types.js';
import type { ReplicationRule } from '../api/v1alpha1/replication-rule-types.js';
import {
  buildIndexRuleName,
  replicationRuleStatus,
  toBuildIndexRule,
} from '../api/v1alpha1/replication-rule-mapping.js';
import { InvalidSpecError } from '../errors.js';
import { clusterEndpoints, clusterReplicationEndpoints } from '../render/cluster-endpoints.js';
import { createController, type Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import type { KubeClient } from '../runtime/kube-client.js';
import { keyOf, parseKey, type KubeObject } from '../runtime/resource-kind.js';
import type { WorkQueueConfig } from '../runtime/runtime-config.js';
import type { RuntimeMetrics } from '../runtime/runtime-metrics.js';
import { deepEqual } from '../runtime/status-patch.js';
import type { BuildIndexApi } from './build-index-api.js';
import { krakenClusterKind, replicationRuleKind } from './kinds.js';
import { degradedRuleStatus } from './rule-status.js';

export const REPLICATION_RULE_FINALIZER = 'kraken.dev/replication-rule';

export interface RuleControllerOptions {
  /** Wall-clock time for conditions' lastTransitionTime; `clock` is monotonic. */
  readonly wallClock?: () => Date;
  readonly client: KubeClient;
  readonly buildIndex: BuildIndexApi;
  readonly metrics: RuntimeMetrics;
  readonly queue: WorkQueueConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespace?: string;
  /** How often a rule's status is read from the build-index (ms). */
  readonly statusIntervalMs: number;
  readonly signal?: AbortSignal;
}

type Live = KubeObject & { metadata: { deletionTimestamp?: string; finalizers?: string[] } };

/** The source and destination cluster names a rule refers to, read leniently (the spec may be invalid). */
function referencedClusters(rule: KubeObject): {
  source?: string;
  destination?: { name: string; namespace: string };
} {
  const spec = (
    rule as {
      spec?: { cluster?: unknown; destination?: { cluster?: { name?: unknown; namespace?: unknown } } };
    }
  ).spec;
  const ns = rule.metadata?.namespace ?? '';
  const dest = spec?.destination?.cluster;
  return {
    ...(typeof spec?.cluster === 'string' ? { source: spec.cluster } : {}),
    ...(typeof dest?.name === 'string'
      ? {
          destination: {
            name: dest.name,
            namespace: typeof dest.namespace === 'string' ? dest.namespace : ns,
          },
        }
      : {}),
  };
}

function isGoing(obj: KubeObject | undefined): boolean {
  return obj === undefined || (obj as Live).metadata.deletionTimestamp !== undefined;
}

export function createRuleController(options: RuleControllerOptions): Controller {
  const { client, buildIndex, clock, namespace } = options;
  const scope = namespace === undefined ? {} : { namespace };
  const rules = client.informer(replicationRuleKind, scope);
  const clusters = client.informer(krakenClusterKind, scope);
  const now = () => (options.wallClock ?? (() => new Date()))();

  /** Base URLs of the source cluster's build-index nodes. */
  const buildIndexUrls = (cluster: KubeObject): string[] => {
    const endpoints = clusterEndpoints(cluster as unknown as KrakenCluster);
    return endpoints.buildIndex.map((address) => `${endpoints.scheme}://${address}`);
  };

  /** Runs `op` against the nodes in turn until one answers. */
  const onAnyNode = async <T>(urls: readonly string[], op: (url: string) => Promise<T>): Promise<T> => {
    let last: unknown = new Error('the cluster has no build-index nodes');
    for (const url of urls) {
      try {
        return await op(url);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  };

  const finalize = async (live: Live, signal: AbortSignal) => {
    if (!(live.metadata.finalizers ?? []).includes(REPLICATION_RULE_FINALIZER)) return;
    const { source } = referencedClusters(live);
    const cluster = source === undefined ? undefined : clusters.get(live.metadata.namespace ?? '', source);
    if (!isGoing(cluster)) {
      let urls: string[] | undefined;
      try {
        urls = buildIndexUrls(cluster as KubeObject);
      } catch (err) {
        // A source whose spec is invalid has rendered nothing new; its old build-index,
        // if any, cannot be addressed from that spec, so there is nothing to remove.
        if (!(err instanceof InvalidSpecError)) throw err;
      }
      if (urls !== undefined) {
        const name = buildIndexRuleName(live as unknown as ReplicationRule);
        const removed = await onAnyNode(urls, (url) => buildIndex.deleteRule(url, name, signal));
        options.logger.info({ rule: name, removed }, 'replication rule removed from the build-index');
      }
    }
    await client.removeFinalizer(live, REPLICATION_RULE_FINALIZER, { signal });
  };

  const reconcile = async (key: string, signal: AbortSignal) => {
    const { namespace: ns, name } = parseKey(key);
    const found = rules.get(ns, name) as Live | undefined;
    if (found === undefined) return;
    if (found.metadata.deletionTimestamp !== undefined) return finalize(found, signal);
    let live: Live = found;
    const rule = () => live as unknown as ReplicationRule;
    const again = { requeueAfterMs: options.statusIntervalMs };
    const degrade = async (reason: string, message: string) => {
      await client.patchStatus(live, degradedRuleStatus(rule(), { reason, message }, now()), { signal });
      return again;
    };

    const refs = referencedClusters(live);
    const source = refs.source === undefined ? undefined : clusters.get(ns, refs.source);
    const destination =
      refs.destination === undefined
        ? undefined
        : clusters.get(refs.destination.namespace, refs.destination.name);
    let body;
    let urls: string[];
    try {
      if (refs.destination !== undefined && isGoing(destination))
        return degrade(
          REASONS.DestinationClusterNotFound,
          `spec.destination.cluster: KrakenCluster ${refs.destination.namespace}/${refs.destination.name} not found`,
        );
      body = toBuildIndexRule(
        rule(),
        destination === undefined
          ? undefined
          : clusterReplicationEndpoints(destination as unknown as KrakenCluster),
      );
      if (isGoing(source))
        return degrade(
          REASONS.SourceClusterNotFound,
          `spec.cluster: KrakenCluster ${ns}/${refs.source ?? ''} not found`,
        );
      urls = buildIndexUrls(source as KubeObject);
    } catch (err) {
      if (err instanceof InvalidSpecError) {
        await client.patchStatus(
          live,
          degradedRuleStatus(rule(), { reason: REASONS.InvalidSpec, message: err.message }, now()),
          {
            signal,
          },
        );
        return undefined;
      }
      throw err;
    }

    // The finalizer goes on only now, before the rule is first written: a rule that never
    // reached a build-index has nothing to remove, and its deletion is never held up.
    const withFinalizer = (await client.addFinalizer(live, REPLICATION_RULE_FINALIZER, { signal })) as
      Live | undefined;
    if (withFinalizer === undefined) return undefined;
    live = withFinalizer;
    try {
      const current = await onAnyNode(urls, (url) => buildIndex.getRule(url, body.name, signal));
      if (current === undefined || !deepEqual(current, body)) {
        await onAnyNode(urls, (url) => buildIndex.putRule(url, body, signal));
        options.logger.info({ rule: body.name, created: current === undefined }, 'replication rule written');
      }
    } catch (err) {
      if (signal.aborted) throw err;
      return degrade(
        REASONS.BuildIndexUnreachable,
        `build-index ${urls.join(', ')}: ${(err as Error).message}`,
      );
    }
    const nodes = (
      await Promise.all(urls.map((url) => buildIndex.status(url, signal).catch(() => undefined)))
    ).filter((s) => s !== undefined);
    if (nodes.length === 0)
      return degrade(REASONS.BuildIndexUnreachable, `no build-index node answered its replication status`);
    await client.patchStatus(live, replicationRuleStatus({ rule: rule(), nodes, now: now() }), { signal });
    return again;
  };

  /** A change of a cluster concerns the rules that name it, as source or destination. */
  const rulesOfCluster = (rulesInformer: Pick<Informer, 'list'>) => (cluster: KubeObject) => {
    const ns = cluster.metadata?.namespace ?? '';
    const clusterName = cluster.metadata?.name;
    return rulesInformer
      .list()
      .filter((rule) => {
        const refs = referencedClusters(rule);
        return (
          (rule.metadata?.namespace === ns && refs.source === clusterName) ||
          (refs.destination?.namespace === ns && refs.destination.name === clusterName)
        );
      })
      .map((rule) => keyOf(rule.metadata?.namespace, rule.metadata?.name ?? ''));
  };

  return createController({
    name: 'replicationrule',
    client,
    metrics: options.metrics,
    queue: options.queue,
    clock,
    logger: options.logger,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    watches: [
      { kind: replicationRuleKind, ...scope },
      { kind: krakenClusterKind, ...scope, keys: rulesOfCluster(rules) },
    ],
    reconcile,
  });
}
