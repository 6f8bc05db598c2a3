/**
 * Process lifecycle for a component binary: start, then on SIGTERM/SIGINT drain and
 * close exactly once, with a deadline so a stuck close cannot hang the pod forever.
 */
import type { Logger } from 'pino';

export interface Service {
  start(): Promise<void>;
  close(): Promise<void>;
  /**
   * Settles when the service can no longer do its job and must stop (an operator that
   * lost its lease): it is closed as on SIGTERM, and the process exits with 1.
   */
  readonly failed?: Promise<Error>;
}

export interface RunOptions {
  logger: Logger;
  /** Hard deadline for close() after a signal (ms). */
  shutdownTimeoutMs?: number;
}

/** Starts the service and resolves with the process exit code once it has shut down. */
export async function runService(service: Service, options: RunOptions): Promise<number> {
  const { logger } = options;
  try {
    await service.start();
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    await service.close().catch(() => {});
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals | 'failure', exitCode = 0) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        logger.error('shutdown deadline exceeded');
        resolve(1);
      }, options.shutdownTimeoutMs ?? 25_000);
      deadline.unref();
      service.close().then(
        () => {
          clearTimeout(deadline);
          logger.info('stopped');
          resolve(exitCode);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          logger.error({ err }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    // Node passes the signal number too: never let it become the exit code.
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    void service.failed?.then((err) => {
      logger.fatal({ err }, 'service failed');
      stop('failure', 1);
    });
  });
}
