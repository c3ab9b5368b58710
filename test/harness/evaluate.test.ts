import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { IntegrityError } from '../../src/errors.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { linf } from '../../src/tensor/norms.js';
import type { Attack, Norm } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';
import { thresholdClassifier } from '../helpers/models.js';

/** Raises the first pixel by ε on the chosen examples only (indices within each batch). */
function bumpAttack(name: string, which: number[]): Attack {
  return {
    name,
    norm: linf,
    config: { which },
    run(_model, x, _c, eps) {
      return tf.tidy(() => {
        const n = x.shape[0];
        const mask = tf.tensor4d(
          Array.from({ length: n }, (_, i) => [which.includes(i) ? eps : 0, 0]).flat(),
          [n, 1, 2, 1],
        );
        return tf.add(x, mask) as tf.Tensor4D;
      });
    },
  };
}

describe('evaluate', () => {
  beforeAll(useTestBackend);
  const model = thresholdClassifier();
  // First pixels 0.45 0.45 0.45 0.2, all class 0; +0.1 flips the first three only.
  const data = tinyDataset(
    [
      [0.45, 0],
      [0.45, 0],
      [0.45, 0],
      [0.2, 0],
    ],
    [0, 0, 0, 0],
  );

  it('keeps the worst case per example across attacks, not per batch', async () => {
    const a = bumpAttack('a', [0]);
    const b = bumpAttack('b', [1]);
    const report = await evaluate(model, data, [a, b], [0.1], { batchSize: 4 });
    expect(report.clean.accuracy).toBe(1);
    expect(report.results.map((r) => r.correct)).toEqual([3, 3]);
    // Per batch, the better attack alone would say 3/4; per example, two different examples fell.
    expect(report.worstCase[0]!.correct).toBe(2);
    expect(report.examples.fellAt).toEqual([0.1, 0.1, null, null]);
  });

  it('counts an example misclassified clean as not robust, and success only among clean-correct ones', async () => {
    const mixed = tinyDataset(
      [
        [0.45, 0],
        [0.9, 0],
      ],
      [0, 0],
    );
    const report = await evaluate(model, mixed, [bumpAttack('none', [])], [0.1]);
    expect(report.clean.correct).toBe(1);
    expect(report.results[0]!.correct).toBe(1);
    expect(report.results[0]!.success).toEqual({ count: 0, of: 1, rate: 0 });
  });

  it('projects what an attack returns onto the ε-ball and the box before judging it', async () => {
    // An attack that ignores its budget: +1 on every pixel. Projected, it moves 0.45 → 0.5 only.
    const greedy: Attack = { ...bumpAttack('greedy', [0, 1, 2, 3]), run: (_m, x) => tf.add(x, 1) as tf.Tensor4D };
    const report = await evaluate(model, data, [greedy], [0.05]);
    expect(report.results[0]!.perturbation.maxLinf).toBeCloseTo(0.05, 6);
    expect(report.results[0]!.correct).toBe(4);
  });

  it('fails loudly when a norm does not project (the verification is not decorative)', async () => {
    const broken: Norm = { ...linf, project: (x) => tf.clone(x) };
    const cheat: Attack = { ...bumpAttack('cheat', [0]), norm: broken, run: (_m, x) => tf.add(x, 0.3) as tf.Tensor4D };
    await expect(evaluate(model, data, [cheat], [0.1])).rejects.toThrow(IntegrityError);
  });

  it('reports Wilson intervals and the number of examples', async () => {
    const report = await evaluate(model, data, [bumpAttack('a', [0])], [0.1]);
    const r = report.results[0]!;
    expect(r.n).toBe(4);
    // Wilson 95% for 3/4: [0.3006, 0.9544] (computed by hand from the formula).
    expect(r.interval[0]).toBeCloseTo(0.3006, 3);
    expect(r.interval[1]).toBeCloseTo(0.9544, 3);
  });

  it('refuses data whose shape does not match the model', async () => {
    const wrong = tinyDataset([[0.1, 0.2, 0.3]], [0], [1, 3, 1]);
    await expect(evaluate(model, wrong, [fgsm()], [0.1])).rejects.toThrow(/takes 1×2×1/);
  });

  it('refuses labels outside the model classes', async () => {
    const bad = tinyDataset([[0.1, 0.2]], [7]);
    await expect(evaluate(model, bad, [fgsm()], [0.1])).rejects.toThrow(/label 7/);
  });

  it('leaks no tensor', async () => {
    expect(await leakedTensors(() => evaluate(model, data, [fgsm(), bumpAttack('a', [0])], [0, 0.1], { batchSize: 3 }))).toBe(0);
  });
});
