import { defineConfig } from 'vitest/config';

/** Shared vitest settings: source-level path aliases so tests never need a prior build. */
export function projectTestConfig(options: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { tsconfigPaths: true },
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
