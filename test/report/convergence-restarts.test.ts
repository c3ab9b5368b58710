/**
 * Issue 15 item 3, restarts: every run of an attack (restarts, APGD-T's target ranks) records its
 * progress on the examples it attacked, and the report says what each run fooled, as AutoAttack
 * prints per restart; a last restart that still fools examples is flagged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apgd, pgd } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { addSums, convergenceCheck, convergenceRecorder, convergenceTrace, lastRestartFound, runSummaries } from '../../src/report/convergence.js';
import { useTestBackend } from '../helpers/backend.js';

describe('convergence sums per run', () => {
  it('keeps each restart apart, adds batches run by run, and summarises what each run fooled', () => {
    const a = convergenceRecorder();
    // Batch a: 10 examples; the first run leaves 4 standing, restart 1 (on those 4) leaves 1.
    a.record(1, 10, 6, 10);
    a.record(2, 20, 4, 10);
    a.record(1, 2, 2, 4, 1);
    a.record(2, 4, 1, 4, 1);
    const b = convergenceRecorder();
    // Batch b: 10 examples, all fooled by the first run: no restart.
    b.record(1, 5, 3, 10);
    b.record(2, 8, 0, 10);
    const sums = addSums(addSums(undefined, a.sums()), b.sums())!;
    expect(sums.n).toBe(20);
    expect(sums.robust).toEqual([0, 9, 4]);
    expect(sums.restarts).toEqual([{ n: 4, loss: [0, 2e6, 4e6], robust: [0, 2, 1], counted: [0, 4, 4] }]);
    // The same sums in the other order.
    expect(addSums(addSums(undefined, b.sums()), a.sums())).toEqual(sums);
    const trace = convergenceTrace('pgd', 0.3, sums);
    expect(trace.restarts).toEqual([
      { run: 1, n: 4, iterations: [
        { iteration: 1, meanLoss: 0.5, robust: 0.5 },
        { iteration: 2, meanLoss: 1, robust: 0.25 },
      ] },
    ]);
    expect(runSummaries(trace)).toEqual([
      { run: 0, attacked: 20, fooled: 16, robustAfter: 0.2, iterations: 2 },
      { run: 1, attacked: 4, fooled: 3, robustAfter: 0.05, iterations: 2 },
    ]);
    // 3 examples fooled by the last restart: fewer than 5, not flagged.
    expect(lastRestartFound(trace)).toBeUndefined();
  });

  it('flags a last restart that still fooled ≥ 5 examples and ≥ 1 point', () => {
    const r = convergenceRecorder();
    r.record(1, 0, 60, 100);
    r.record(2, 0, 40, 100);
    r.record(3, 0, 40, 100);
    r.record(4, 0, 40, 100);
    r.record(1, 0, 38, 40, 1);
    r.record(2, 0, 33, 40, 1);
    const trace = convergenceTrace('apgd-ce', 0.3, r.sums()!);
    expect(lastRestartFound(trace)).toEqual({ run: 1, attacked: 40, fooled: 7, robustAfter: 0.33, iterations: 2 });
    const check = convergenceCheck([trace])!;
    expect(check.ok).toBe(false);
    expect(check.message).toBe('the last restart still fooled examples: apgd-ce at ε=0.3 (run 2 of 2 fooled 7 of the 40 left standing)');
    expect(check.advice).toMatch(/--restarts/);
    expect(check.advice).not.toMatch(/--steps/);
  });
});

describe('restarts on the fixture model', () => {
  let report: Report;
  beforeAll(async () => {
    await useTestBackend();
    const model = await loadModel(fixtureModelPath('mnist-cnn'));
    try {
      // Two batches, so that restart sums of batches are added.
      report = await evaluate(model, balancedSubset(loadMnist('test'), 16), [pgd({ steps: 3, restarts: 3 }), apgd({ steps: 3, restarts: 2 })], [0.08], { seed: 1, batchSize: 8, probes: false });
    } finally {
      model.dispose?.();
    }
  });

  it('records every run, and after the last one the robust count the harness measured', () => {
    for (const name of ['pgd', 'apgd-ce']) {
      const t = report.convergence!.find((c) => c.attack === name)!;
      const row = report.results.find((r) => r.attack === name)!;
      expect(t.n).toBe(row.attacked);
      const runs = runSummaries(t);
      expect(runs.length).toBeGreaterThan(1);
      // Each restart attacks exactly the examples the runs before it left standing.
      for (let k = 1; k < runs.length; k++) expect(runs[k]!.attacked).toBe(runs[k - 1]!.attacked - runs[k - 1]!.fooled);
      expect(Math.round(runs.at(-1)!.robustAfter * t.n)).toBe(row.correct);
      expect(runs.reduce((a, r) => a + r.fooled, 0)).toBe(row.attacked - row.correct);
    }
  });
});
