import { defineConfig } from 'vitest/config';

/**
 * `npm run test:slow`: the full-size reproductions that take minutes (test/slow/), kept out of
 * `npm test`. Each has a fast version with the same assertion in the main suite.
 */
export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    // tfjs keeps one global engine per process; forks isolate backends between files.
    pool: 'forks',
    // One file at a time: each saturates both cores (wasm threads, or child processes).
    fileParallelism: false,
    // Files shared with `npm test` read this (test/helpers/suite-size.ts) and run at full size.
    provide: { fullSize: true },
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
  },
});
