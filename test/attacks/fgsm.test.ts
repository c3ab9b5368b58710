import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgm, fgsm } from '../../attacks/fgsm.js';
import type { AttackContext } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

const ctx = (): AttackContext => ({ seed: 1, costs: { gradients: 0, queries: 0 } });

/*
 * Closed form for a linear model z = W x + b with cross-entropy on label y:
 *   ∇ₓ L = Σ_k (p_k − [k = y]) W_k.  With two classes and y = 0 this is p₁ (W₁ − W₀),
 * so sign(∇ₓ L) = sign(W₁ − W₀) whatever the probabilities. W₀ = [1, −2], W₁ = [−1, 1]
 * gives W₁ − W₀ = [−2, 3]: FGSM moves pixel 0 down and pixel 1 up by ε.
 */
const W = [
  [1, -2],
  [-1, 1],
];

describe('FGSM against the closed form on a linear model', () => {
  beforeAll(useTestBackend);

  it('untargeted: x + ε·sign(W₁ − W₀)', () => {
    const model = linearClassifier(W, [0, 0], [1, 2, 1]);
    const x = tf.tensor4d([0.5, 0.5], [1, 1, 2, 1]);
    const c = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const adv = fgsm().run(model, x, c, 0.1, ctx());
    expect(Array.from(adv.dataSync())).toEqual([expect.closeTo(0.4, 6), expect.closeTo(0.6, 6)]);
    tf.dispose([adv, x, c.labels]);
    model.dispose();
  });

  it('clips to the input box when ε is large', () => {
    const model = linearClassifier(W, [0, 0], [1, 2, 1]);
    const x = tf.tensor4d([0.5, 0.5], [1, 1, 2, 1]);
    const c = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const adv = fgsm().run(model, x, c, 0.7, ctx());
    expect(Array.from(adv.dataSync())).toEqual([0, 1]);
    tf.dispose([adv, x, c.labels]);
    model.dispose();
  });

  it('targeted toward class 1 from label 0 takes the same step (−∇ CE₁ = p₀ (W₁ − W₀))', () => {
    const model = linearClassifier(W, [0, 0], [1, 2, 1]);
    const x = tf.tensor4d([0.5, 0.5, 0.2, 0.9], [2, 1, 2, 1]);
    // Example 2: label 1, target 0 → the opposite direction.
    const c = { labels: tf.tensor1d([1, 0], 'int32'), targeted: true };
    const adv = fgsm().run(model, x, c, 0.05, ctx());
    const v = Array.from(adv.dataSync());
    expect(v[0]).toBeCloseTo(0.45, 6);
    expect(v[1]).toBeCloseTo(0.55, 6);
    expect(v[2]).toBeCloseTo(0.25, 6);
    expect(v[3]).toBeCloseTo(0.85, 6);
    tf.dispose([adv, x, c.labels]);
    model.dispose();
  });

  it('FGM (L2) steps ε·(W₁ − W₀)/‖W₁ − W₀‖₂ = ε·[−2, 3]/√13', () => {
    const model = linearClassifier(W, [0, 0], [1, 2, 1]);
    const x = tf.tensor4d([0.5, 0.5], [1, 1, 2, 1]);
    const c = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const adv = fgm().run(model, x, c, 0.2, ctx());
    const v = Array.from(adv.dataSync());
    expect(v[0]).toBeCloseTo(0.5 - (0.2 * 2) / Math.sqrt(13), 5);
    expect(v[1]).toBeCloseTo(0.5 + (0.2 * 3) / Math.sqrt(13), 5);
    tf.dispose([adv, x, c.labels]);
    model.dispose();
  });

  it('counts one gradient per example and leaks no tensor', () => {
    const model = linearClassifier(W, [0, 0], [1, 2, 1]);
    const x = tf.tensor4d([0.5, 0.5, 0.1, 0.2, 0.3, 0.4], [3, 1, 2, 1]);
    const c = { labels: tf.tensor1d([0, 1, 0], 'int32'), targeted: false };
    const context = ctx();
    const before = tf.memory().numTensors;
    fgsm().run(model, x, c, 0.1, context).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(context.costs.gradients).toBe(3);
    tf.dispose([x, c.labels]);
    model.dispose();
  });
});
