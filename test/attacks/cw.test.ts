import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cwL2, ddn } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Attack, Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';
import { bySuite } from '../helpers/suite-size.js';

/**
 * C&W-L2 with its defaults on the undefended fixture: the old defaults (lr 0.01, c₀ = 1e-3,
 * 9 × 100 steps) left most digits unbroken (38 of 95), since 100 tanh-space steps of 0.01 move
 * no saturated pixel (on the 10 digits of the slow run: 3 of 8 clean-correct ones). Now it must
 * break every digit, about as close as DDN gets.
 */
describe('C&W-L2 on the undefended MNIST fixture', () => {
  let model: Classifier;
  // 5 digits in `npm test`, 10 in `npm run test:slow` (test/slow/cw-fixture.test.ts imports this file).
  const data = balancedSubset(loadMnist('test'), bySuite(5, 10));

  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  function distances(attack: Attack): { d: number[]; fooled: number } {
    const x = tf.tensor4d(data.images, [data.size, 28, 28, 1]);
    const labels = tf.tensor1d(data.labels, 'int32');
    const adv = attack.run(model, x, { labels, targeted: false }, 1, { seed: 0, costs: { gradients: 0, queries: 0 } }) as tf.Tensor4D;
    const [d, pred, clean] = tf.tidy(() => [
      Array.from(tf.sqrt(tf.sum(tf.square(tf.sub(adv, x)), [1, 2, 3])).dataSync()),
      Array.from(tf.argMax(model.logits(adv), 1).dataSync()),
      Array.from(tf.argMax(model.logits(x), 1).dataSync()),
    ]);
    tf.dispose([x, labels, adv]);
    const rows = data.labels.reduce<number[]>((acc, y, i) => (clean![i] === y ? [...acc, i] : acc), []);
    return { d: rows.map((i) => (pred![i] !== data.labels[i] ? d![i]! : Infinity)), fooled: rows.filter((i) => pred![i] !== data.labels[i]).length };
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;

  it('breaks every clean-correct digit, with a median L2 within 10% of DDN\'s', () => {
    const cw = distances(cwL2());
    const reference = distances(ddn());
    expect(cw.fooled).toBe(cw.d.length);
    expect(median(cw.d)).toBeLessThanOrEqual(median(reference.d) * 1.1);
  });
});

describe('C&W-L2 abortEarly', () => {
  it('stops a search step after two checks without progress, and only when asked', async () => {
    await useTestBackend();
    // Every pixel at 1 and the boundary beyond the box: the loss cannot move.
    const model = linearClassifier([[0, 0, 0, 0], [1, 1, 1, 1]], [0, -10], [2, 2, 1]);
    const x = tf.ones([2, 2, 2, 1]) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 0], 'int32');
    const gradients = (abortEarly: boolean) => {
      const ctx = { seed: 0, costs: { gradients: 0, queries: 0 } };
      cwL2({ abortEarly }).run(model, x, { labels, targeted: false }, 1, ctx).dispose();
      return ctx.costs.gradients;
    };
    // Checks every 10 steps; the first compares with nothing: 20 steps × 5 search steps × 2 examples.
    expect(gradients(true)).toBe(200);
    expect(gradients(false)).toBe(1000);
    tf.dispose([x, labels]);
    model.dispose();
  });
});
