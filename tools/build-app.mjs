// Bundles an app's src/main.ts (with the workspace libs it imports, resolved through
// tsconfig path aliases) into dist/main.js; third-party packages stay external.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
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
