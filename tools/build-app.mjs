// Bundles an app's src/main.ts (with the workspace libs it imports, resolved through
// tsconfig path aliases) into dist/main.js; third-party packages stay external.
// src/config.ts is bundled on its own into dist/config.js, so that tools (the config
// reference generator, tools/docs-config.mjs) can import the schema without starting the app;
// src/api.ts likewise into dist/api.js (the API documents, tools/openapi/main.mjs).
// What main.ts imports dynamically goes into chunks/ (code splitting), so that the Node.js
// version check at the top of main.ts runs before anything that needs Node.js 24 is loaded.
// Every workspace lib declares `"sideEffects": false`, so a bundle holds only the lib modules
// the app uses, and loads only the packages those import (the agent no longer loads the
// proxy's JWT and bcrypt code, nor node:sqlite).
// Runtime imports of 'undici' resolve to libs/service-kit/src/undici/lean-undici.ts, which
// loads only the parts of undici the libs use (its header says why). Only static imports are
// let through, and a name it lacks is an error, so that a new use fails here, not at run time.
// node:http is loaded with require(): an ESM import of a builtin reads all its exports, and
// node:http's lazy WebSocket, CloseEvent and MessageEvent load the copy of undici inside
// Node.js (13 MiB of RSS in a bare process, 2 to 3 MiB in an idle agent), which no app uses.
// `--without <package>` (repeatable) fails the build when the app would load that package:
// the agent is built `--without undici`, as its clients use Node's own HTTP stack
// (service-kit's createHttpPool) and undici would cost every node 3 MiB for nothing.
// The version and commit are baked in as KRAKEN_VERSION and KRAKEN_COMMIT.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildInfo } from './build-info.mjs';

const { values: args } = parseArgs({ options: { without: { type: 'string', multiple: true, default: [] } } });

const root = fileURLToPath(new URL('..', import.meta.url));
const leanUndici = {
  name: 'lean-undici',
  setup(build) {
    const path = `${root}libs/service-kit/src/undici/lean-undici.ts`;
    build.onResolve({ filter: /^undici$/ }, ({ kind }) =>
      kind === 'import-statement'
        ? { path }
        : {
            errors: [
              { text: `undici is imported statically only (${kind}): its names are checked at build` },
            ],
          },
    );
  },
};
const requiredHttp = {
  name: 'required-http',
  setup(build) {
    build.onResolve({ filter: /^(node:)?http$/ }, ({ namespace }) =>
      namespace === 'required-http'
        ? { path: 'node:http', external: true }
        : { path: 'node:http', namespace: 'required-http' },
    );
    build.onLoad({ filter: /.*/, namespace: 'required-http' }, () => ({
      contents: "module.exports = require('node:http');",
      loader: 'js',
    }));
  },
};
const { version, commit } = buildInfo();
rmSync('dist', { recursive: true, force: true });
const { metafile } = await build({
  entryPoints: ['src/main.ts', ...['src/config.ts', 'src/api.ts'].filter((entry) => existsSync(entry))],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  packages: 'external',
  tsconfig: `${root}/tsconfig.base.json`,
  plugins: [leanUndici, requiredHttp],
  metafile: true,
  logLevel: 'warning',
  // An import of a name a module does not export (e.g. from lean-undici.ts) is undefined at run time.
  logOverride: { 'import-is-undefined': 'error' },
  define: { KRAKEN_VERSION: JSON.stringify(version), KRAKEN_COMMIT: JSON.stringify(commit) },
  banner: {
    js: "import { createRequire as __krakenCreateRequire } from 'node:module'; const require = __krakenCreateRequire(import.meta.url);",
  },
});
// Checked on the output, after tree shaking: a lib's entry may name a package in code
// the app drops.
const loaded = Object.entries(metafile.outputs).flatMap(([output, { imports }]) =>
  imports.filter((i) => i.external).map((i) => ({ output, path: i.path })),
);
for (const name of args.without) {
  const found = loaded.find(({ path }) => path === name || path.startsWith(`${name}/`));
  if (found !== undefined) {
    console.error(
      `build-app: this app is built --without ${name}, but ${found.output} imports ${found.path}`,
    );
    process.exit(1);
  }
}
