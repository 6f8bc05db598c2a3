/**
 * The operator service. Today it serves only the standard operational endpoints
 * (/health, /readiness, /metrics); its domain logic lands in its own change.
 */
import { createHttpServer, createMetrics, type Logger } from '@kraken/service-kit';
import type { Config } from './config.js';

export interface App {
  start(): Promise<void>;
  close(): Promise<void>;
  readonly url: string;
}

export function createApp(config: Config, deps: { logger: Logger }): App {
  const metrics = createMetrics('operator');
  const server = createHttpServer({ logger: deps.logger, metrics });
  let url = '';
  let closing: Promise<void> | undefined;
  return {
    async start() {
      url = await server.listen({ host: config.listen.host, port: config.listen.port });
    },
    close() {
      closing ??= server.close();
      return closing;
    },
    get url() {
      return url;
    },
  };
}
