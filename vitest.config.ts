import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    // tfjs keeps one global engine per process; forks isolate backends between files.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
