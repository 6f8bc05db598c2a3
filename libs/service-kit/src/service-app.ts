/**
 * The start/close shape every component's `createApp` returns: start runs the app's
 * own preparation, then listens; close drains in-flight requests first and releases
 * the app's resources after them, once however often it is called.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ListenConfig } from './config/service-config.js';

export interface ServiceApp {
  start(): Promise<void>;
  /** Idempotent; resolves once the server and every resource are closed. */
  close(): Promise<void>;
  /** The listening URL; empty until started. */
  readonly url: string;
}

export interface ServiceAppOptions {
  readonly component: string;
  readonly server: FastifyInstance;
  readonly listen: ListenConfig;
  readonly logger: Logger;
  /** Runs before the server listens: open stores, register routes, start sweepers. */
  readonly beforeListen?: () => Promise<void> | void;
  /** Releases the app's resources once the server has drained. */
  readonly afterClose?: () => Promise<void>;
  /** Extra fields for the "listening" log line. */
  readonly describe?: Record<string, unknown>;
}

export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const { server, logger } = options;
  let url = '';
  let closing: Promise<void> | undefined;
  return {
    async start() {
      await options.beforeListen?.();
      url = await server.listen({ host: options.listen.host, port: options.listen.port });
      logger.info({ url, ...options.describe }, `${options.component} listening`);
    },
    close() {
      closing ??= (async () => {
        // Close drains in-flight requests, but a keep-alive connection whose response
        // ends after close began would linger until its timeout: close each once idle.
        const sweep = setInterval(() => server.server.closeIdleConnections(), 100);
        sweep.unref();
        try {
          await server.close();
        } finally {
          clearInterval(sweep);
          await options.afterClose?.();
        }
      })();
      return closing;
    },
    get url() {
      return url;
    },
  };
}
