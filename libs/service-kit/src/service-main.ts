/**
 * The whole life of a component binary in one call: parse `--config`, load and
 * validate the YAML, set up logs and tracing, build the app, run it until SIGTERM.
 * A bad config ends the process with exit code 2 and one readable line on stderr.
 */
import type { z } from 'zod';
import { configPathFromArgv, loadConfigFile } from './config/config-loader.js';
import { ConfigError } from './errors.js';
import { runService, type Service } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import type { LoggingConfig, TracingConfig } from './config/service-config.js';
import { startTracing } from './tracing.js';

export interface MainOptions<S extends z.ZodType<{ logging: LoggingConfig; tracing: TracingConfig }>> {
  component: string;
  schema: S;
  createApp(config: z.output<S>, deps: { logger: Logger }): Service | Promise<Service>;
  argv?: readonly string[];
}

export async function runMain<S extends z.ZodType<{ logging: LoggingConfig; tracing: TracingConfig }>>(
  options: MainOptions<S>,
): Promise<number> {
  let config: z.output<S>;
  try {
    config = await loadConfigFile(options.schema, configPathFromArgv(options.argv ?? process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`kraken-${options.component}: ${err.message}\n`);
    return 2;
  }
  const logger = createLogger(options.component, config.logging);
  const tracing = await startTracing(options.component, config.tracing);
  const app = await options.createApp(config, { logger });
  return runService(
    {
      start: () => app.start(),
      close: async () => {
        await app.close();
        await tracing.close();
      },
    },
    { logger },
  );
}
