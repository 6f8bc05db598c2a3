/**
 * The whole life of a component binary in one call: parse the command line (`--help`,
 * `--version` and subcommands end here), load and validate the YAML, set up logs and
 * tracing, build the app, run it until SIGTERM. A usage error or a bad config ends the
 * process with exit code 2 and one readable line on stderr.
 */
import type { z } from 'zod';
import { buildInfo, type BuildInfo } from './cli/build-info.js';
import { parseCommandLine, renderUsage, type Subcommand } from './cli/command-line.js';
import { loadConfigFile } from './config/config-loader.js';
import { ConfigError } from './errors.js';
import { runService, type Service } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import type { LoggingConfig, TracingConfig } from './config/service-config.js';
import { startTracing } from './tracing.js';

export interface MainOptions<S extends z.ZodType<{ logging: LoggingConfig; tracing: TracingConfig }>> {
  component: string;
  /** What the component is, in one sentence, for `--help`. */
  summary: string;
  schema: S;
  createApp(config: z.output<S>, deps: { logger: Logger }): Service | Promise<Service>;
  /** Commands run instead of the service (`kraken <component> <name> [args]`), listed in `--help`. */
  subcommands?: Readonly<Record<string, Subcommand>>;
  /** Defaults to process.argv.slice(2). */
  argv?: readonly string[];
  /** Defaults to what the build baked in. */
  build?: BuildInfo;
}

export async function runMain<S extends z.ZodType<{ logging: LoggingConfig; tracing: TracingConfig }>>(
  options: MainOptions<S>,
): Promise<number> {
  const { component } = options;
  const line = parseCommandLine(options.argv ?? process.argv.slice(2), options.subcommands);
  switch (line.kind) {
    case 'usage-error':
      process.stderr.write(`kraken ${component}: ${line.problem} (see --help)\n`);
      return 2;
    case 'help':
      process.stdout.write(renderUsage(options));
      return 0;
    case 'version': {
      const { version, commit } = options.build ?? buildInfo;
      process.stdout.write(`kraken ${component} ${version} (${commit})\n`);
      return 0;
    }
    case 'subcommand':
      return options.subcommands![line.name]!.run(line.argv);
    case 'serve':
      break;
  }
  let config: z.output<S>;
  try {
    config = await loadConfigFile(options.schema, line.configPath);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`kraken ${component}: ${err.message}\n`);
    return 2;
  }
  const logger = createLogger(component, config.logging);
  const tracing = await startTracing(component, config.tracing);
  let app: Service;
  try {
    app = await options.createApp(config, { logger });
  } catch (err) {
    // Files the config names (TLS certificates, credentials) are read as the app is built.
    if (!(err instanceof ConfigError)) throw err;
    await tracing.close();
    process.stderr.write(`kraken ${component}: ${err.message}\n`);
    return 2;
  }
  return runService(
    {
      start: () => app.start(),
      ...(app.failed === undefined ? {} : { failed: app.failed }),
      close: async () => {
        await app.close();
        await tracing.close();
      },
    },
    { logger },
  );
}
