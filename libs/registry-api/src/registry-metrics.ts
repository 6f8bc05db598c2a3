/**
 * Counters of the registry API, registered on the injected service-kit Metrics (and
 * no-ops without one): requests by operation and status, bytes served and received.
 */
import type { Metrics } from '@kraken/service-kit';

export interface RegistryMetrics {
  request(operation: string, status: number): void;
  bytesServed(kind: 'blob' | 'manifest', bytes: number): void;
  bytesReceived(kind: 'blob' | 'manifest', bytes: number): void;
}

const NOOP: RegistryMetrics = {
  request() {},
  bytesServed() {},
  bytesReceived() {},
};

export function createRegistryMetrics(metrics: Metrics | undefined): RegistryMetrics {
  if (metrics === undefined) return NOOP;
  const requests = counter(
    metrics,
    'registry_requests_total',
    'Registry API requests by operation and status.',
    ['operation', 'status'],
  );
  const served = counter(
    metrics,
    'registry_bytes_served_total',
    'Bytes of blobs and manifests sent to clients.',
    ['kind'],
  );
  const received = counter(
    metrics,
    'registry_bytes_received_total',
    'Bytes of blobs and manifests received from clients.',
    ['kind'],
  );
  return {
    request(operation, status) {
      requests.inc({ operation, status: String(status) });
    },
    bytesServed(kind, bytes) {
      if (bytes > 0) served.inc({ kind }, bytes);
    },
    bytesReceived(kind, bytes) {
      if (bytes > 0) received.inc({ kind }, bytes);
    },
  };
}

/** The plugin may be registered more than once on one Metrics (e.g. tests): reuse counters. */
type Counter = ReturnType<Metrics['counter']>;

function counter(metrics: Metrics, name: string, help: string, labels: readonly string[]): Counter {
  const existing = metrics.registry.getSingleMetric(metrics.prefix + name);
  return (existing as Counter | undefined) ?? metrics.counter(name, help, labels);
}
