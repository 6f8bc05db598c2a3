/**
 * A BackendRouter built from routing config: every rule's backend is built (by
 * createBackend, or the factory a test injects) and wrapped in the rule's resilience,
 * then handed to the namespace router.
 */
import type { Clock } from '@kraken/foundation';
import type { Metrics } from '@kraken/service-kit';
import { createResilientBackend } from '../resilience/resilient-backend.js';
import type { StorageBackend } from '../storage-backend.js';
import type { StorageBackendConfig } from './backend-config.js';
import { createBackend } from './create-backend.js';
import { createNamespaceRouter, type BackendRouter, type NamespaceRoute } from './namespace-router.js';
import type { BackendRoutingConfig } from './routing-config.js';

export interface BackendRouterOptions {
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Where every rule's backend counts its retries and timeouts, by backend and operation. */
  readonly metrics?: Metrics;
  /** Builds a backend from its config (default: createBackend); for tests. */
  readonly createBackend?: (config: StorageBackendConfig) => StorageBackend;
}

/** Builds every rule's backend, each behind its own resilience wrapper. */
export function createBackendRouter(
  config: BackendRoutingConfig,
  options: BackendRouterOptions = {},
): BackendRouter {
  const build = options.createBackend ?? createBackend;
  const routes: NamespaceRoute[] = [];
  try {
    for (const rule of config) {
      routes.push({
        namespace: rule.namespace,
        backend: createResilientBackend({
          backend: build(rule.backend),
          config: rule.resilience,
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.random ? { random: options.random } : {}),
          ...(options.metrics ? { metrics: options.metrics } : {}),
        }),
      });
    }
  } catch (err) {
    // The backends built so far may hold connection pools.
    for (const route of routes) void route.backend.close().catch(() => {});
    throw err;
  }
  return createNamespaceRouter(routes);
}
