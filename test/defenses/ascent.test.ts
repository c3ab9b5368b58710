import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { epsAtEpoch, pgdAdversarialTraining } from '../../defenses/adversarial-training.js';
import { projectedAscent } from '../../defenses/ascent.js';
import { trades } from '../../defenses/trades.js';
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

  it('an ε ramp of R epochs trains at ε·(e+1)/R in epoch e, then at ε', () => {
    expect([0, 1, 2, 3, 4, 9].map((e) => epsAtEpoch(0.2, 4, e))).toEqual([0.05, 0.1, 0.15000000000000002, 0.2, 0.2, 0.2]);
    expect(epsAtEpoch(0.2, undefined, 0)).toBe(0.2);
    expect(() => pgdAdversarialTraining({ eps: 0.2, ramp: 0 })).toThrow(/ramp 0 must be a whole number of epochs ≥ 1, e.g. --train-eps-ramp 5/);
    expect(() => trades({ eps: 0.2, ramp: 1.5 })).toThrow(/ramp 1.5/);
  });

  it('under a ramp, pgd-at pushes to the corner of the smaller ball in early epochs (step scaled with ε)', async () => {
    const d = pgdAdversarialTraining({ eps: 0.2, steps: 5, stepSize: 0.1, ramp: 4 });
    expect(d.describe!()).toMatchObject({ eps: 0.2, epsRampEpochs: 4 });
    const corners = async (epoch: number) => {
      const b = await d.batch!({ x, y }, { classifier: model, seed: 1, epoch } as unknown as HookContext);
      const v = Array.from(b.x.dataSync());
      b.x.dispose();
      return v;
    };
    (await corners(0)).forEach((v, i) => expect(v).toBeCloseTo([0.45, 0.55, 0, 1][i]!, 6));
    (await corners(3)).forEach((v, i) => expect(v).toBeCloseTo([0.3, 0.7, 0, 1][i]!, 6));
  });

  it('under a ramp, TRADES keeps its examples inside the ramped ball', async () => {
    const d = trades({ eps: 0.2, steps: 5, ramp: 4 });
    for (const [epoch, eps] of [[0, 0.05], [5, 0.2]] as const) {
      const b = await d.batch!({ x, y }, { classifier: model, seed: 1, epoch } as unknown as HookContext);
      const adv = tf.slice(b.x, [2, 0, 0, 0], [2, -1, -1, -1]);
      const dist = tf.max(tf.abs(tf.sub(adv, x))).dataSync()[0]!;
      expect(dist).toBeLessThanOrEqual(eps + 1e-6);
      expect(dist).toBeGreaterThan(eps * 0.9);
      tf.dispose([adv, b.x, b.y]);
    }
  });
});
