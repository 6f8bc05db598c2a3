/** `kraken agent`: the command line and the service's life are runMain's (@kraken/service-kit). */
import { checkNodeVersion } from '@kraken/service-kit/node-version';

// The rest loads only after the Node.js check, since it needs Node.js 24.
if (checkNodeVersion()) {
  const { runMain } = await import('@kraken/service-kit');
  const { createApp } = await import('./app.js');
  const { configSchema } = await import('./config.js');
  const setupContainerd = await import('./containerd/setup-containerd.js');
  process.exitCode = await runMain({
    component: 'agent',
    summary: 'the read-only registry on every host; it pulls large blobs from its peers.',
    schema: configSchema,
    createApp,
    subcommands: {
      'setup-containerd': { summary: setupContainerd.SUMMARY, run: (argv) => setupContainerd.run(argv) },
    },
  });
}
