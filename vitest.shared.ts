import { defineConfig } from 'vitest/config';
import tsconfigPaths from 'vite-tsconfig-paths';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Shared vitest settings: source-level path aliases so tests never need a prior build. */
export function projectTestConfig(options: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    plugins: [tsconfigPaths({ root, projects: ['tsconfig.base.json'] })],
    test: {
      include: options.include ?? ['src/**/*.test.ts'],
      environment: 'node',
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: 60_000,
      pool: 'forks',
      reporters: ['default'],
    },
  });
}
