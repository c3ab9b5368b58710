import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/harness/evaluate.js';
import { unpackBits } from '../../src/regression/bits.js';
import type { EvaluationSpec } from '../../src/regression/baseline-file.js';
import { baselineFromReport, reportBits } from '../../src/regression/record.js';
import { evaluationHash } from '../../src/regression/spec.js';
import { parseBaseline } from '../../src/regression/store.js';
import { linf } from '../../src/tensor/norms.js';
import type { Attack } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';
import { thresholdClassifier } from '../helpers/models.js';

/** Raises the first pixel by ε on the chosen examples only. */
function bump(name: string, which: number[]): Attack {
  return {
    name,
    norm: linf,
    config: { which },
    run: (_m, x, _c, eps) =>
      tf.tidy(() => {
        const n = x.shape[0];
        const mask = tf.tensor4d(Array.from({ length: n }, (_, i) => [which.includes(i) ? eps : 0, 0]).flat(), [n, 1, 2, 1]);
        return tf.add(x, mask) as tf.Tensor4D;
      }),
  };
}

describe('recording a baseline from a report', () => {
  beforeAll(useTestBackend);
  // Class 0 iff the first pixel ≤ 0.5: examples 0–2 sit at 0.45 (a bump of 0.1 flips them),
  // example 3 at 0.2 (never flips), example 4 is class 1 but predicted 0 (wrong clean).
  const data = tinyDataset([[0.45, 0], [0.45, 0], [0.45, 0], [0.2, 0], [0.2, 0]], [0, 0, 0, 0, 1]);
  const spec: EvaluationSpec = {
    data: 'tiny',
    split: 'test',
    request: { attack: 'a,b' },
    mode: 'independent',
    attacks: [
      { name: 'a', norm: 'linf', config: { which: [0] } },
      { name: 'b', norm: 'linf', config: { which: [1] } },
    ],
    epsilons: [0.01, 0.1],
    seed: 0,
    batchSize: 8,
    target: 'untargeted',
  };

  it('stores per-example bits per (attack, ε), for the worst case and clean', async () => {
    const report = await evaluate(thresholdClassifier(), data, [bump('a', [0]), bump('b', [1])], [0.01, 0.1], { batchSize: 8 });
    const bits = reportBits(report);
    expect(bits.clean).toEqual([true, true, true, true, false]);
    expect(bits.results.map((r) => [r.attack, r.eps, r.bits])).toEqual([
      ['a', 0.01, [true, true, true, true, false]],
      ['a', 0.1, [false, true, true, true, false]],
      ['b', 0.01, [true, true, true, true, false]],
      ['b', 0.1, [true, false, true, true, false]],
    ]);
    // Worst case per example: 0 fell to a, 1 to b.
    expect(bits.worstCase[1]).toEqual({ eps: 0.1, bits: [false, false, true, true, false] });

    const baseline = baselineFromReport(report, spec, '../model');
    expect(baseline.configHash).toBe(evaluationHash(spec));
    expect(baseline.figures.worstCase[1]).toMatchObject({ eps: 0.1, correct: 2, n: 5 });
    expect(unpackBits(baseline.figures.worstCase[1]!.bits, 5)).toEqual([false, false, true, true, false]);
    expect(baseline.examples.ids).toEqual(['tiny/0', 'tiny/1', 'tiny/2', 'tiny/3', 'tiny/4']);
    // The run's sanity checks are kept, so that a check can show them beside its own.
    expect(report.sanity!.length).toBeGreaterThan(0);
    expect(baseline.sanity).toEqual(report.sanity);
    // What it records passes its own validation, and reads back with its sanity checks.
    const read = parseBaseline(JSON.stringify(baseline), 'b.json');
    expect(read).toEqual(baseline);
    expect(read.sanity!.map((c) => c.id)).toEqual(report.sanity!.map((c) => c.id));
  });

  it('stores per-class counts per (attack, ε) and for the worst case, adding up to the overall figures', async () => {
    const report = await evaluate(thresholdClassifier(), data, [bump('a', [0]), bump('b', [1])], [0.01, 0.1], { batchSize: 8 });
    const baseline = baselineFromReport(report, spec, '../model');
    const perClass = baseline.perClass!;
    expect(perClass.map((c) => `${c.attack}@${c.eps}`)).toEqual(['a@0.01', 'a@0.1', 'b@0.01', 'b@0.1', 'worst case@0.01', 'worst case@0.1']);
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    for (const c of perClass) {
      const figure = c.attack === 'worst case' ? baseline.figures.worstCase.find((w) => w.eps === c.eps)! : baseline.figures.results.find((r) => r.attack === c.attack && r.eps === c.eps)!;
      expect(sum(c.robust)).toBe(figure.correct);
      expect(sum(c.n)).toBe(5);
      expect(c.robust.every(Number.isInteger)).toBe(true);
    }
    // Class 0 (examples 0–3) loses 0 and 1 in the worst case at 0.1; class 1 (example 4) was wrong clean.
    expect(perClass.find((c) => c.attack === 'worst case' && c.eps === 0.1)).toEqual({ attack: 'worst case', eps: 0.1, n: [4, 1], robust: [2, 0] });
    expect(parseBaseline(JSON.stringify(baseline), 'b.json').perClass).toEqual(perClass);
    // A count that no longer adds up to its figure is refused on reading, naming it.
    const edited = structuredClone(baseline);
    edited.perClass!.find((c) => c.attack === 'a' && c.eps === 0.1)!.robust = [2, 0];
    expect(() => parseBaseline(JSON.stringify(edited), 'b.json')).toThrow(/perClass a ε=0\.1 robust counts add up to 2, but the figure says 3/);
  });
});
