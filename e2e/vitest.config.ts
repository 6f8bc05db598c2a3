import { defineConfig } from 'vitest/config';
import tsconfigPaths from 'vite-tsconfig-paths';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// Multi-process tests: one file at a time (they share real ports and tools), long timeouts.
export default defineConfig({
  plugins: [tsconfigPaths({ root, projects: ['tsconfig.base.json'] })],
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
