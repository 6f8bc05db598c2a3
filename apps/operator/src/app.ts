/**
 * The operator service. Today it serves only the standard operational endpoints
 * (/health, /readiness, /metrics); its domain logic lands in its own change.
 */
import {
  createHttpServer,
  createMetrics,
  createServiceApp,
  type ServiceApp,
  type Logger,
} from '@kraken/service-kit';
import type { Config } from './config.js';

export type App = ServiceApp;

export function createApp(config: Config, deps: { logger: Logger }): App {
  const metrics = createMetrics('operator');
  const server = createHttpServer({ logger: deps.logger, metrics, tls: config.tls.server });
  return createServiceApp({ component: 'operator', server, listen: config.listen, logger: deps.logger });
}
