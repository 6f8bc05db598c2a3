/**
 * The controller runtime's Prometheus metrics, registered once per registry (the
 * service kit's `createMetrics('operator')` gives names `kraken_operator_*`) and shared
 * by the client, the informers, every controller's queue and the leader elector.
 */
import type { Metrics } from '@kraken/service-kit';

export type WriteVerb = 'apply' | 'create' | 'update' | 'patch' | 'patch_status' | 'delete';
export type ReconcileResult = 'success' | 'error' | 'requeue';

export interface RuntimeMetrics {
  /** Reconciles finished, by controller and result. */
  readonly reconciles: ReturnType<Metrics['counter']>;
  /** Seconds per reconcile, by controller. */
  readonly reconcileDuration: ReturnType<Metrics['histogram']>;
  /** Keys waiting to be reconciled now, by controller. */
  readonly queueDepth: ReturnType<Metrics['gauge']>;
  /** Write requests sent to the API server, by verb and kind. */
  readonly apiWrites: ReturnType<Metrics['counter']>;
  /** Full lists an informer made (its first, then one per relist), by kind. */
  readonly informerLists: ReturnType<Metrics['counter']>;
  /** 1 while this process holds the leader Lease. */
  readonly leader: ReturnType<Metrics['gauge']>;
}

export function createRuntimeMetrics(metrics: Metrics): RuntimeMetrics {
  return {
    reconciles: metrics.counter('reconciles_total', 'Reconciles finished, by controller and result.', [
      'controller',
      'result',
    ]),
    reconcileDuration: metrics.histogram('reconcile_duration_seconds', 'Time one reconcile took.', {
      labelNames: ['controller'],
    }),
    queueDepth: metrics.gauge('work_queue_depth', 'Keys waiting to be reconciled now.', {
      labelNames: ['controller'],
    }),
    apiWrites: metrics.counter('api_writes_total', 'Write requests sent to the Kubernetes API server.', [
      'verb',
      'kind',
    ]),
    informerLists: metrics.counter(
      'informer_lists_total',
      'Full lists made by informers: one at start, then one per relist (watch expired or broken).',
      ['kind'],
    ),
    leader: metrics.gauge('leader', '1 while this process holds the leader Lease, else 0.'),
  };
}
