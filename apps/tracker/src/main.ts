/** `kraken tracker`: the command line and the service's life are runMain's (@kraken/service-kit). */
import { checkNodeVersion } from '@kraken/service-kit/node-version';

// The rest loads only after the Node.js check, since it needs Node.js 24.
if (checkNodeVersion()) {
  const { runMain } = await import('@kraken/service-kit');
  const { createApp } = await import('./app.js');
  const { configSchema } = await import('./config.js');
  process.exitCode = await runMain({
    component: 'tracker',
    summary: 'hands out peers for each blob.',
    schema: configSchema,
    createApp,
  });
}
