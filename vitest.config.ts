import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/slow/ is the opt-in suite of minute-long reproductions: `npm run test:slow`.
    exclude: ['test/bench/**', 'test/slow/**', 'node_modules/**', 'dist/**'],
    // tfjs keeps one global engine per process; forks isolate backends between files.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
