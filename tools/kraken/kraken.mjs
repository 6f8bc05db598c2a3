#!/usr/bin/env node
// `kraken <component> [args]`: one front for every binary. It loads the component's built
// bundle (apps/<component>/dist/main.js) in this process with the remaining arguments, so
// that signals and exit codes are the component's own; the component parses its flags
// (`kraken agent --help`). `kraken --help` lists the components, `kraken --version` prints
// the version and commit. The container image uses it as its entry point.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The same one line as @kraken/service-kit/node-version (this file runs unbuilt, so it
// cannot import the TypeScript source); it runs before anything else is loaded.
if (Number(process.versions.node.split('.')[0]) !== 24) {
  process.stderr.write(`kraken: Node.js 24 is required, this is ${process.version}\n`);
  process.exit(1);
}

const COMPONENTS = {
  agent: 'the read-only registry on every host; it pulls large blobs from its peers',
  origin: 'the content-addressed blob store and seeder, backed by your storage',
  tracker: 'hands out peers for each blob',
  proxy: 'the push side of the registry',
  'build-index': 'the tag to digest store, replicated within and between clusters',
  operator: 'reconciles KrakenCluster and ReplicationRule resources',
};

const width = Math.max(...Object.keys(COMPONENTS).map((name) => name.length));
const USAGE = `kraken: a peer-to-peer OCI registry.

Usage: kraken <component> [--config <file>] [args]
       kraken <component> --help

Components:
${Object.entries(COMPONENTS)
  .map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`)
  .join('\n')}

Options:
  -h, --help  print this help and exit
  --version   print the version and commit and exit

Every config key, its default and meaning: docs/config/<component>.md.

Example:
  kraken agent --config /etc/kraken/agent.yaml`;

function usageError(problem) {
  process.stderr.write(`kraken: ${problem} (see --help)\n`);
  process.exit(2);
}

const [component, ...args] = process.argv.slice(2);
if (component === undefined) usageError('which component? one of ' + Object.keys(COMPONENTS).join(', '));
if (component === '--help' || component === '-h') {
  console.log(USAGE);
  process.exit(0);
}
if (component === '--version') {
  const { buildInfo } = await import('../build-info.mjs');
  const { version, commit } = buildInfo();
  console.log(`kraken ${version} (${commit})`);
  process.exit(0);
}
if (component.startsWith('-')) usageError(`unknown option '${component}'`);
if (!Object.hasOwn(COMPONENTS, component)) usageError(`unknown component '${component}'`);

const main = fileURLToPath(new URL(`../../apps/${component}/dist/main.js`, import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(
    `kraken: ${component} is not built (no ${main}); run: npx nx build app-${component}\n`,
  );
  process.exit(1);
}
// The component reads its arguments from process.argv, as if it had been started alone.
process.argv = [process.argv[0], main, ...args];
await import(pathToFileURL(main).href);
