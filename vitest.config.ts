import { defineConfig } from 'vitest/config';

/**
 * In-process test files that run one after another in a single fork (the "shared" project):
 * each isolated fork pays ~2 s of start-up (node, tfjs, the wasm backend) before its first test,
 * more than most of these files take to run. Their src modules are still fresh per file
 * (vitest's module isolation); what they share is node_modules, i.e. one tfjs engine. Listed one
 * by one: a file joins only once it has passed here in shuffled orders (npx vitest run --project
 * shared --sequence.shuffle.files --sequence.seed N). Anything that initialises or tears down a
 * backend (test/backend/), runs worker threads or the CLI as a child process, measures the
 * process (RSS), or runs longer than a second or two stays in its own fork: the "isolated"
 * project, where new files go. test/helpers/shared-fork-setup.ts undoes what leaks between files.
 */
const SHARED_FORK = [
  'test/architecture/imports.test.ts',
  'test/attacks/fgsm.test.ts',
  'test/attacks/loop.test.ts',
  'test/bench-tools/bench-report.test.ts',
  'test/browser/bundle.test.ts',
  'test/browser/load-model.test.ts',
  'test/certify/certify.test.ts',
  'test/certify/exports.test.ts',
  'test/certify/statistics.test.ts',
  'test/cli/attack.test.ts',
  'test/cli/eot-rule.test.ts',
  'test/cli/eval-batch-size.test.ts',
  'test/cli/help.test.ts',
  'test/data/dataset.test.ts',
  'test/data/file-names.test.ts',
  'test/data/folder.test.ts',
  'test/data/image-header.test.ts',
  'test/data/image-resize.test.ts',
  'test/data/index.test.ts',
  'test/data/mnist.test.ts',
  'test/defenses/ascent.test.ts',
  'test/defenses/augment.test.ts',
  'test/defenses/awp.test.ts',
  'test/defenses/clipping.test.ts',
  'test/defenses/defense.test.ts',
  'test/defenses/ensemble.test.ts',
  'test/defenses/jpeg.test.ts',
  'test/defenses/leaks.test.ts',
  'test/defenses/losses.test.ts',
  'test/defenses/mart.test.ts',
  'test/defenses/median.test.ts',
  'test/defenses/targets.test.ts',
  'test/e2e/compare-cli.test.ts',
  'test/faults/full-disk-outputs.test.ts',
  'test/faults/full-disk.test.ts',
  'test/faults/http-answers.test.ts',
  'test/faults/merge-shards.test.ts',
  'test/faults/model-identity.test.ts',
  'test/faults/output-locks.test.ts',
  'test/faults/output-paths.test.ts',
  'test/faults/training-faults.test.ts',
  'test/harness/batch-size.test.ts',
  'test/harness/evaluate.test.ts',
  'test/harness/sequential-8bit.test.ts',
  'test/leaderboard/config.test.ts',
  'test/leaderboard/robust-mnist-config.test.ts',
  'test/model/classifier.test.ts',
  'test/model/fs-io.test.ts',
  'test/model/graph.test.ts',
  'test/model/http-model.test.ts',
  'test/model/labels.test.ts',
  'test/model/load-diagnosis.test.ts',
  'test/model/preprocessing.test.ts',
  'test/package/lockfile.test.ts',
  'test/regression/bits.test.ts',
  'test/regression/compare.test.ts',
  'test/regression/differences.test.ts',
  'test/regression/folder-class-names.test.ts',
  'test/regression/normal.test.ts',
  'test/regression/record.test.ts',
  'test/regression/spec.test.ts',
  'test/regression/store.test.ts',
  'test/regression/transform-model.test.ts',
  'test/report/curve-chart.test.ts',
  'test/report/examples.test.ts',
  'test/report/grid-filter.test.ts',
  'test/report/grid-png.test.ts',
  'test/report/html.test.ts',
  'test/report/rebuild-attack.test.ts',
  'test/report/regenerate.test.ts',
  'test/report/trace.test.ts',
  'test/run/train-defenses.test.ts',
  'test/tensor/norms.test.ts',
  'test/tensor/random.test.ts',
  'test/train/monitor.test.ts',
  'test/train/schedule.test.ts',
];

const EXCLUDE = ['test/bench/**', 'test/slow/**', 'node_modules/**', 'dist/**'];
/** Both projects; not inherited with `extends`, which would concatenate the include lists. */
const COMMON = {
  // tfjs keeps one global engine per process; forks isolate backends between files.
  pool: 'forks',
  testTimeout: 120_000,
  hookTimeout: 120_000,
} as const;

export default defineConfig({
  test: {
    // Two isolated files at a time on CI's 2 cores (vitest's default is cores − 1 = 1): a fresh
    // clone's whole run took 698 s instead of 827 s, all passing (2026-12-01, load ≤ 1 at start).
    maxWorkers: 2,
    globalSetup: ['test/helpers/temp-root.ts'],
    // test/slow/ is the opt-in suite of minute-long reproductions: `npm run test:slow`.
    projects: [
      { test: { ...COMMON, name: 'isolated', include: ['test/**/*.test.ts'], exclude: [...EXCLUDE, ...SHARED_FORK] } },
      { test: { ...COMMON, name: 'shared', include: SHARED_FORK, setupFiles: ['test/helpers/shared-fork-setup.ts'], poolOptions: { forks: { singleFork: true } } } },
    ],
  },
});
