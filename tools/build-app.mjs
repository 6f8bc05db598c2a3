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
// The version and commit are baked in as KRAKEN_VERSION and KRAKEN_COMMIT.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildInfo } from './build-info.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version, commit } = buildInfo();
rmSync('dist', { recursive: true, force: true });
await build({
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
  logLevel: 'warning',
  define: { KRAKEN_VERSION: JSON.stringify(version), KRAKEN_COMMIT: JSON.stringify(commit) },
  banner: {
    js: "import { createRequire as __krakenCreateRequire } from 'node:module'; const require = __krakenCreateRequire(import.meta.url);",
  },
});
