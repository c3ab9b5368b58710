import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgdAdversarialTraining } from '../../defenses/adversarial-training.js';
import { projectedAscent } from '../../defenses/ascent.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import type { HookContext } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

describe('the inner maximisation of adversarial training', () => {
  beforeAll(useTestBackend);
  // Class 1 gains on class 0 as x₀ falls and x₁ rises: the ascent direction is (−1, +1).
  const model = linearClassifier([[1, -1], [-1, 1]], [0, 0], [1, 2, 1]);
  const y = tf.tensor1d([0, 0], 'int32');
  const x = tf.tensor4d([0.5, 0.5, 0.05, 0.95], [2, 1, 2, 1]);
  const ce = (z: tf.Tensor2D) => tf.sum(crossEntropy(z, y)) as tf.Scalar;

  it('keeps the last iterate: every example is pushed to the corner of its ε-ball (inside the box)', () => {
    const before = tf.memory().numTensors;
    const adv = projectedAscent(model, x, ce, { eps: 0.2, steps: 5, stepSize: 0.1, start: 'uniform', seed: 3 });
    // It leaves nothing but its result.
    expect(tf.memory().numTensors - before).toBe(1);
    const values = Array.from(adv.dataSync());
    [0.3, 0.7, 0, 1].forEach((v, i) => expect(values[i]).toBeCloseTo(v, 6));
  });

  it('pgd-at replaces the batch by the last iterates of PGD, and leaks nothing', async () => {
    const d = pgdAdversarialTraining({ eps: 0.2, steps: 5, stepSize: 0.1 });
    expect(d.describe!()).toMatchObject({ eps: 0.2, attack: 'pgd (last iterate)', steps: 5 });
    const ctx = { classifier: model, seed: 1 } as unknown as HookContext;
    let out: number[] = [];
    expect(
      await leakedTensors(async () => {
        const b = await d.batch!({ x, y }, ctx);
        out = Array.from(b.x.dataSync());
        b.x.dispose();
      }),
    ).toBe(0);
    [0.3, 0.7, 0, 1].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 6));
  });
});
