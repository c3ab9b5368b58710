import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { eot } from '../../attacks/adaptive.js';
import { makeAttack } from '../../attacks/index.js';
import { composeDefenses } from '../../defenses/defense.js';
import { addGaussianNoise } from '../../defenses/gaussian.js';
import { makeDefenses } from '../../defenses/registry.js';
import { parseSmoothAdv, smoothAdvExamples } from '../../defenses/smooth-adv.js';
import { smoothedClassifier } from '../../src/certify/smoothed-classifier.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { UserError } from '../../src/errors.js';
import { runAttack } from '../../attacks/run-attack.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { trainModel } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { expectSameValues } from '../helpers/same-values.js';

describe('gaussian=σ and smooth-adv training defenses', () => {
  beforeAll(useTestBackend);
  const data = balancedSubset(loadMnist('train'), 96);

  it('gaussian noise has standard deviation σ, is not clipped to [0, 1], and repeats for a seed', () => {
    const x = tf.fill([64, 28, 28, 1], 0.5) as tf.Tensor4D;
    const a = addGaussianNoise(x, 0.25, 5);
    const again = addGaussianNoise(x, 0.25, 5);
    const [std, min, max, same] = tf.tidy(() => [
      tf.sqrt(tf.mean(tf.square(tf.sub(a, 0.5)))).dataSync()[0]!,
      tf.min(a).dataSync()[0]!,
      tf.max(a).dataSync()[0]!,
      tf.all(tf.equal(a, again)).dataSync()[0]!,
    ]);
    tf.dispose([x, a, again]);
    expect(std).toBeGreaterThan(0.245);
    expect(std).toBeLessThan(0.255);
    // 50 176 draws at 0.5 ± 0.25: values beyond 2σ on both sides exist and are kept.
    expect(min).toBeLessThan(0);
    expect(max).toBeGreaterThan(1);
    expect(same).toBe(1);
  });

  it('SmoothAdv examples stay in the L2 ball and the box and raise the soft smoothed loss', () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    const classifier = layersClassifier(model, { owned: true });
    const x = tf.tensor4d(data.images.subarray(0, 16 * 784), [16, 28, 28, 1]);
    const y = tf.tensor1d(data.labels.subarray(0, 16), 'int32');
    const o = { sigma: 0.25, eps: 0.5, steps: 3, m: 4 };
    const { adv, noise } = smoothAdvExamples(classifier, x, y, o, 9);
    const softLoss = (input: tf.Tensor4D) =>
      tf.tidy(() => {
        const copies = tf.reshape(tf.tile(tf.reshape(input, [16, 1, 784]), [1, 4, 1]), [64, 28, 28, 1]);
        const soft = tf.mean(tf.reshape(tf.softmax(classifier.logits(tf.add(copies, noise) as tf.Tensor4D)), [16, 4, 10]), 1);
        return tf.neg(tf.mean(tf.log(tf.sum(tf.mul(soft, tf.oneHot(y, 10)), 1)))).dataSync()[0]!;
      });
    const [maxNorm, min, max] = tf.tidy(() => [tf.max(tf.sqrt(tf.sum(tf.square(tf.sub(adv, x)), [1, 2, 3]))).dataSync()[0]!, tf.min(adv).dataSync()[0]!, tf.max(adv).dataSync()[0]!]);
    expect(maxNorm).toBeLessThanOrEqual(0.5 + 1e-5);
    expect(maxNorm).toBeGreaterThan(0.4);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(softLoss(adv)).toBeGreaterThan(softLoss(x));
    tf.dispose([x, y, adv, noise]);
    classifier.dispose?.();
  });

  it('specs: defaults, overrides, and one-line errors', () => {
    expect(parseSmoothAdv(undefined)).toEqual({ sigma: 0.25, eps: 0.5, steps: 1, m: 1 });
    expect(parseSmoothAdv('sigma:0.5+m:4')).toEqual({ sigma: 0.5, eps: 0.5, steps: 1, m: 4 });
    expect(parseSmoothAdv('0.12')).toEqual({ sigma: 0.12, eps: 0.5, steps: 1, m: 1 });
    expect(() => parseSmoothAdv('m:1.5')).toThrow(UserError);
    expect(() => parseSmoothAdv('radius:1')).toThrow(/smooth-adv "radius:1": write key:value pairs/);
    expect(() => makeDefenses('gaussian', { eps: 0.1 })).toThrow(/gaussian needs a value/);
    expect(() => makeDefenses('gaussian=0', { eps: 0.1 })).toThrow(/σ 0 must be a positive number/);
    expect(makeDefenses('smooth-adv=eps:1+steps:2', { eps: 0.1 })[0]!.name).toBe('smooth-adv=eps:1+steps:2');
    expect(() => makeDefenses('smooth-adv', { eps: 0.1, attack: makeAttack('fgsm') })).toThrow(/drop --train-attack/);
  });

  it.each(['gaussian=0.25', 'smooth-adv=steps:2+m:2', 'gaussian=0.25,clip-global=1'])('%s: no tensor leaks over a training run; the same seed gives the same weights', async (spec) => {
    const run = async () => {
      const model = buildArchitecture('mlp', [28, 28, 1], 10, 1);
      const hooks = composeDefenses(makeDefenses(spec, { eps: 0.1, model }));
      const leaked = await leakedTensors(() => trainModel(model, data, { epochs: 1, batchSize: 48, seed: 1, hooks }));
      const weights = model.getWeights().map((t) => Array.from(t.dataSync()));
      model.dispose();
      return { leaked, weights };
    };
    const a = await run();
    const b = await run();
    expect(a.leaked).toBe(0);
    expectSameValues(b.weights, a.weights, 'weights');
  });
});

describe('the smoothed classifier as a Classifier', () => {
  beforeAll(useTestBackend);

  it('is randomised for attacks, deterministic for judging, leak-free, and attackable with EOT', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 4);
    const base = layersClassifier(model, { owned: true });
    const smooth = smoothedClassifier(base, { sigma: 0.25, samples: 4, votes: 200, seed: 1 });
    const data = balancedSubset(loadMnist('test'), 4);
    const x = tf.tensor4d(data.images, [4, 28, 28, 1]);
    const y = tf.tensor1d(data.labels, 'int32');
    const leaked = await leakedTensors(async () => {
      const [a, b2] = [smooth.logits(x), smooth.logits(x)];
      expect(a.shape).toEqual([4, 10]);
      // log of a mean of probabilities: exp sums to 1 per row.
      expect(Array.from(tf.tidy(() => tf.sum(tf.exp(a), 1).dataSync())).every((s) => Math.abs(s - 1) < 1e-4)).toBe(true);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b2))).dataSync()[0]!)).toBeGreaterThan(0);
      const votes = await smooth.query!(x);
      const row2 = tf.slice(x, [2], [1]);
      const first = await smooth.query!(row2);
      // Row 2 judged alone and within the batch gets the same votes (noise keyed by the image).
      expect(Array.from(first.dataSync())).toEqual(Array.from(votes.dataSync()).slice(20, 30));
      expect(Array.from(tf.tidy(() => tf.sum(votes, 1).dataSync())).every((s) => Math.abs(s - 1) < 1e-6)).toBe(true);
      const { adv } = await runAttack(smooth, eot(makeAttack('pgd', { norm: 'l2', steps: 2 }), 2), x, { labels: y, targeted: false }, 0.5, 3);
      const dist = tf.tidy(() => tf.max(tf.sqrt(tf.sum(tf.square(tf.sub(adv, x)), [1, 2, 3]))).dataSync()[0]!);
      expect(dist).toBeLessThanOrEqual(0.5 + 1e-5);
      tf.dispose([a, b2, votes, first, adv, row2]);
    });
    expect(leaked).toBe(0);
    tf.dispose([x, y]);
    smooth.dispose?.();
  });
});
