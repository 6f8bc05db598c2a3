/** `kraken agent`: the command line and the service's life are runMain's (@kraken/service-kit). */
import { checkNodeVersion } from '@kraken/service-kit/node-version';
import { relaunchWithNodeFlags } from '@kraken/service-kit/node-flags';

/**
 * V8 flags of the agent, which runs on every node; a flag given on the command line or in
 * NODE_OPTIONS wins. Measured in bench/agent-memory/README.md:
 * - 1 MiB semi-spaces: V8 grows the young generation for start-up and for the swarm's
 *   short-lived objects and keeps it grown, 13 MiB idle and 25 MiB while swarming; capped,
 *   collection takes about 0.4 s more per GiB pulled.
 * - WebAssembly on its baseline compiler only: undici's HTTP parser is WebAssembly, and
 *   optimizing it takes 25 MB of compiler memory a few seconds after start, 9 MiB of which
 *   the C allocator keeps; unoptimized, it moves a blob for the same CPU.
 * - JavaScript up to Maglev, without TurboFan: 6 MiB less idle (the optimizing compiler's
 *   code and zone memory); the data path's CPU goes to hashing and copies, and pulls cost
 *   the same CPU per GiB (Sparkplug only, --max-opt=1, cost 12% more).
 */
const NODE_FLAGS = ['--max-semi-space-size=1', '--liftoff-only', '--max-opt=2'];

// The rest loads only after the Node.js check, since it needs Node.js 24, and in the process
// that runs with the flags.
if (checkNodeVersion() && !relaunchWithNodeFlags(NODE_FLAGS)) {
  const { runMain } = await import('@kraken/service-kit');
  const { createApp } = await import('./app.js');
  const { configSchema } = await import('./config.js');
  const { SUMMARY } = await import('./containerd/setup-containerd-summary.js');
  process.exitCode = await runMain({
    component: 'agent',
    summary: 'the read-only registry on every host; it pulls large blobs from its peers.',
    schema: configSchema,
    createApp,
    subcommands: {
      'setup-containerd': {
        summary: SUMMARY,
        run: async (argv) => (await import('./containerd/setup-containerd.js')).run(argv),
      },
    },
  });
}
