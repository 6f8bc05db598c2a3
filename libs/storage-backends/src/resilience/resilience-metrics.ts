/**
 * The resilience wrapper's metrics, registered on the component's service-kit Metrics:
 * `storage_retries_total` and `storage_timeouts_total`, by backend and operation, or by
 * operation alone for a component with a single backend. Every wrapper on one registry
 * (the default backend and each routed one) counts into the same two counters.
 */
import type { Metrics } from '@kraken/service-kit';

export interface ResilienceMetrics {
  retried(backend: string, operation: string): void;
  timedOut(backend: string, operation: string): void;
}

const NOOP: ResilienceMetrics = { retried() {}, timedOut() {} };

type Counter = ReturnType<Metrics['counter']>;

export function createResilienceMetrics(
  metrics: Metrics | undefined,
  options: { readonly byBackend: boolean },
): ResilienceMetrics {
  if (metrics === undefined) return NOOP;
  const { byBackend } = options;
  const labels = byBackend ? ['backend', 'operation'] : ['operation'];
  const by = byBackend ? 'by backend and operation' : 'by operation';
  const retries = shared(
    metrics,
    'storage_retries_total',
    `Storage backend operations retried after a transient error, ${by}.`,
    labels,
  );
  const timeouts = shared(
    metrics,
    'storage_timeouts_total',
    `Storage backend attempts that timed out, ${by}.`,
    labels,
  );
  const labelsOf = (backend: string, operation: string) =>
    byBackend ? { backend, operation } : { operation };
  return {
    retried: (backend, operation) => retries.inc(labelsOf(backend, operation)),
    timedOut: (backend, operation) => timeouts.inc(labelsOf(backend, operation)),
  };
}

/** The counter of this name on the registry, registered by the first wrapper that asks. */
function shared(metrics: Metrics, name: string, help: string, labels: readonly string[]): Counter {
  const existing = metrics.registry.getSingleMetric(metrics.prefix + name);
  return (existing as Counter | undefined) ?? metrics.counter(name, help, labels);
}
