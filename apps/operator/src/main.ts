import {
  configPathFromArgv,
  createLogger,
  loadConfigFile,
  runService,
  startTracing,
} from '@kraken/service-kit';
import { createApp } from './app.js';
import { configSchema } from './config.js';

const config = await loadConfigFile(configSchema, configPathFromArgv(process.argv.slice(2)));
const logger = createLogger('operator', config.logging);
const tracing = await startTracing('operator', config.tracing);
const app = createApp(config, { logger });
process.exitCode = await runService(
  {
    start: () => app.start(),
    close: async () => {
      await app.close();
      await tracing.close();
    },
  },
  { logger },
);
