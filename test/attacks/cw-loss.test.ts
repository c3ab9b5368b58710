import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { attackOptionsFrom } from '../../src/run/attack-options.js';
import { cwLoss, parseLossName } from '../../src/tensor/loss.js';
import type { Classifier } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

describe('the C&W margin loss', () => {
  beforeAll(useTestBackend);

  it('is min(max_{i≠y} z_i − z_y, κ), by hand', () => {
    const logits = tf.tensor2d([[1, 3, 2], [1, 3, 2], [5, -1, 0]]);
    const labels = tf.tensor1d([0, 1, 0], 'int32');
    // Row 0: 3 − 1 = 2 → capped at κ; row 1: 2 − 3 = −1; row 2: 0 − 5 = −5.
    expect(Array.from(cwLoss(logits, labels).dataSync())).toEqual([0, -1, -5]);
    expect(Array.from(cwLoss(logits, labels, 50).dataSync())).toEqual([2, -1, -5]);
    tf.dispose([logits, labels]);
  });

  it('is accepted as --loss cw and cw=κ, and anything else is refused naming the choices', () => {
    expect(parseLossName('cw')).toBe('cw');
    expect(parseLossName('cw=50')).toBe('cw=50');
    expect(attackOptionsFrom({ attack: 'pgd', loss: 'cw=20' }).loss).toBe('cw=20');
    expect(() => parseLossName('cw=-1')).toThrow(/--loss cw=-1: κ must be a number ≥ 0, e.g. --loss cw=50/);
    expect(() => parseLossName('hinge')).toThrow(/--loss "hinge": use one of ce, dlr, cw or cw=κ/);
  });
});

/**
 * Why it breaks defensive distillation (Carlini & Wagner 2016, arXiv:1607.04311): a distilled
 * model at T = 100 has logits ~100× a normal model's, so softmax saturates and cross-entropy's
 * input gradient underflows to 0 for confident examples, while the margin loss only scales.
 * Here the distilled model is the undefended fixture with its logits ×100: the same decisions,
 * so the same true robustness; only the gradients of CE differ.
 */
describe('PGD with the margin loss on a model with saturated softmax', () => {
  let model: Classifier;
  let scaled: Classifier;
  const data = balancedSubset(loadMnist('test'), 30);
  const eps = [0.1];

  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
    scaled = { ...model, logits: (x) => tf.tidy(() => tf.mul(model.logits(x), 100) as tf.Tensor2D) };
  });

  it('breaks it as it breaks the normal model, where cross-entropy PGD is masked', async () => {
    const run = async (m: Classifier, loss: 'ce' | 'cw') => evaluate(m, data, [makeAttack('pgd', { steps: 10, loss })], eps, { seed: 2, probes: false });
    const [ceNormal, ceScaled, cwNormal, cwScaled] = await Promise.all([run(model, 'ce'), run(scaled, 'ce'), run(model, 'cw'), run(scaled, 'cw')]);
    const correct = (r: Awaited<ReturnType<typeof run>>) => r.results[0]!.correct;
    // Sign gradients of a loss scaled by 100 are the same: identical examples, identical figures.
    const perExample = (r: Awaited<ReturnType<typeof run>>) => r.examples.results.map((c) => ({ predictions: c.predictions, linf: c.linf, l2: c.l2 }));
    expect(perExample(cwScaled)).toEqual(perExample(cwNormal));
    // Measured on these 30 digits (clean 28): CE-PGD-10 leaves 20 on the normal model and 27 on
    // the scaled one; the margin loss 20 on both. A margin loss that lost its edge fails here.
    expect(correct(ceScaled)).toBeGreaterThanOrEqual(correct(ceNormal) + 5);
    expect(correct(cwScaled)).toBeLessThanOrEqual(correct(ceScaled) - 5);
    expect(correct(cwScaled)).toBeLessThanOrEqual(correct(ceNormal) + 1);
  });

  it('leaks no tensor', async () => {
    expect(await leakedTensors(() => evaluate(scaled, balancedSubset(data, 10), [makeAttack('pgd', { steps: 3, loss: 'cw=50' })], eps, { probes: false }))).toBe(0);
  });
});
