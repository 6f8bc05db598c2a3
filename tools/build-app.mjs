// Bundles an app's src/main.ts (with the workspace libs it imports, resolved through
// tsconfig path aliases) into dist/main.js; third-party packages stay external.
// src/config.ts is bundled on its own into dist/config.js, so that tools (the config
// reference generator, tools/docs-config.mjs) can import the schema without starting the app.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts', ...(existsSync('src/config.ts') ? ['src/config.ts'] : [])],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  packages: 'external',
  tsconfig: `${root}/tsconfig.base.json`,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __krakenCreateRequire } from 'node:module'; const require = __krakenCreateRequire(import.meta.url);",
  },
});
