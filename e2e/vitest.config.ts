import { defineConfig } from 'vitest/config';

// Multi-process tests: one file at a time (they share real ports and tools), long timeouts.
export default defineConfig({
  resolve: { tsconfigPaths: true },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
