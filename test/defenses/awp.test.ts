import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adversarialWeightPerturbation, parseAwp, perturbedWeights, weightPerturbation } from '../../defenses/awp.js';
import { composeDefenses } from '../../defenses/defense.js';
import { makeDefenses } from '../../defenses/registry.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { trainModel, type HookContext } from '../../src/train/loop.js';
import { useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';

const norm = (t: tf.Tensor) => Math.sqrt(Array.from(t.dataSync()).reduce((s, v) => s + v * v, 0));

describe('awp: adversarial weight perturbation', () => {
  beforeAll(useTestBackend);
  const rows = [[0.1, 0.9, 0.3, 0.2], [0.8, 0.2, 0.5, 0.1], [0.4, 0.4, 0.9, 0.7], [0.3, 0.6, 0.1, 0.9]];
  const labels = [0, 1, 1, 0];
  const data = tinyDataset(rows, labels, [2, 2, 1], 2);

  it('v = γ·‖w‖·g/‖g‖ worked by hand: w = g = (3, 4), γ = 0.1 give v = (0.3, 0.4)', () => {
    // ‖w‖ = 5, ‖g‖ = 5, γ = 0.1 → v = 0.1·5·(3, 4)/5 = (0.3, 0.4), of norm 0.5 = γ·‖w‖.
    const v = weightPerturbation(tf.tensor2d([[3, 4]]), tf.tensor2d([[3, 4]]), 0.1);
    expect(Array.from(v.dataSync())).toEqual([expect.closeTo(0.3, 6), expect.closeTo(0.4, 6)]);
    const zero = weightPerturbation(tf.tensor2d([[3, 4]]), tf.zeros([1, 2]), 0.1);
    expect(Array.from(zero.dataSync())).toEqual([0, 0]);
  });

  it('moves each kernel by γ·‖w‖ along its loss gradient, leaves biases, and restores the weights exactly', () => {
    const model = buildArchitecture('mlp', [2, 2, 1], 2, 5);
    const classifier = layersClassifier(model);
    const x = tf.tensor4d(rows.flat(), [4, 2, 2, 1]);
    const y = tf.tensor1d(labels, 'int32');
    const loss = () => tf.mean(crossEntropy(classifier.logits(x), y)) as tf.Scalar;
    const before = model.getWeights().map((w) => tf.clone(w));
    const kernels = perturbedWeights(model);
    expect(kernels.map((k) => k.shape.length)).toEqual([2, 2]);
    const grads = tf.variableGrads(loss, kernels).grads;
    const gamma = 0.01;
    const restore = adversarialWeightPerturbation({ gamma }).perturbWeights!({ model } as unknown as HookContext, loss);
    const moved = model.getWeights();
    model.weights.forEach((w, i) => {
      const delta = tf.sub(moved[i]!, before[i]!);
      if (w.shape.length > 1) {
        expect(norm(delta)).toBeCloseTo(gamma * norm(before[i]!), 5);
        // Along the gradient: cosine 1.
        const g = grads[kernels.find((k) => k.name === (w.read() as tf.Variable).name)!.name]!;
        const cosine = tf.sum(tf.mul(delta, g)).dataSync()[0]! / (norm(delta) * norm(g));
        expect(cosine).toBeCloseTo(1, 4);
      } else {
        expect(norm(delta)).toBe(0);
      }
    });
    restore();
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(before[i]!.dataSync())));
    model.dispose();
  });

  it('one SGD step of pgd-at,awp is w − lr·∇L(w + v) on the PGD batch, computed by hand', async () => {
    const env = { eps: 0.1, steps: 2 };
    const one = tinyDataset([rows[0]!], [labels[0]!], [2, 2, 1], 2);
    const lr = 0.5;
    const seed = 7;
    // By hand: PGD's batch against w (the batch hook runs first, with the loop's step seed), v from ∇L(w), the update from ∇L(w + v).
    const model = buildArchitecture('mlp', [2, 2, 1], 2, 6);
    const classifier = layersClassifier(model);
    const ctx = { classifier, model, epoch: 0, step: 0, seed: seed * 1_000_003, learningRate: lr } as HookContext;
    const hooks = composeDefenses(makeDefenses('pgd-at', env));
    const batch = await hooks.batch!(tf.tensor4d(rows[0]!, [1, 2, 2, 1]), tf.tensor1d([labels[0]!], 'int32'), ctx);
    const loss = () => tf.mean(crossEntropy(classifier.logits(batch.x), batch.y)) as tf.Scalar;
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const w0 = vars.map((v) => tf.clone(v));
    const gAtW = tf.variableGrads(loss, vars).grads;
    vars.forEach((v) => {
      if (v.shape.length > 1) v.assign(tf.add(v, weightPerturbation(v, gAtW[v.name]!, 0.05)));
    });
    const gAtWv = tf.variableGrads(loss, vars).grads;
    const expected = vars.map((v, i) => tf.sub(w0[i]!, tf.mul(gAtWv[v.name]!, lr)));

    const trained = buildArchitecture('mlp', [2, 2, 1], 2, 6);
    await trainModel(trained, one, { epochs: 1, batchSize: 1, seed, optimizer: 'sgd', learningRate: lr, hooks: composeDefenses(makeDefenses('pgd-at,awp=0.05', env)) });
    trained.trainableWeights.forEach((w, i) => expect(norm(tf.sub(w.read(), expected[i]!))).toBeLessThan(1e-6));
    // Without AWP the step differs (the gradient at w, not at w + v).
    const plain = vars.map((v, i) => tf.sub(w0[i]!, tf.mul(gAtW[v.name]!, lr)));
    expect(trained.trainableWeights.some((w, i) => norm(tf.sub(w.read(), plain[i]!)) > 1e-5)).toBe(true);
    trained.dispose();
    model.dispose();
  });

  it('warmup:E trains the first E epochs exactly as without AWP, and perturbs from epoch E + 1', async () => {
    const env = { eps: 0.1, steps: 2 };
    const train = async (defense: string, epochs: number) => {
      const m = buildArchitecture('mlp', [2, 2, 1], 2, 6);
      await trainModel(m, data, { epochs, batchSize: 2, seed: 3, optimizer: 'sgd', learningRate: 0.5, hooks: composeDefenses(makeDefenses(defense, env)) });
      const weights = m.getWeights().map((w) => Array.from(w.dataSync()));
      m.dispose();
      return weights;
    };
    expect(await train('pgd-at,awp=gamma:0.05+warmup:1', 1)).toEqual(await train('pgd-at', 1));
    const twoPlain = await train('pgd-at', 2);
    const twoWarm = await train('pgd-at,awp=gamma:0.05+warmup:1', 2);
    const differs = twoWarm.some((w, i) => w.some((v, j) => Math.abs(v - twoPlain[i]![j]!) > 1e-6));
    expect(differs).toBe(true);
    // The second epoch, from the same weights, is the one a plain awp run would take from there.
    expect(twoWarm).not.toEqual(await train('pgd-at,awp=0.05', 2));
  });

  it('parses γ alone or gamma/warmup pairs, names the run by what differs from the defaults, and refuses bad pairs', () => {
    expect(parseAwp(undefined)).toEqual({});
    expect(parseAwp('0.01')).toEqual({ gamma: 0.01 });
    expect(parseAwp('gamma:0.01+warmup:5')).toEqual({ gamma: 0.01, warmup: 5 });
    const names = ['awp', 'awp=0.01', 'awp=warmup:5', 'awp=gamma:0.01+warmup:5'].map((t) => makeDefenses(t, { eps: 0.1 })[0]!.name);
    expect(names).toEqual(['awp', 'awp=0.01', 'awp=warmup:5', 'awp=gamma:0.01+warmup:5']);
    expect(makeDefenses('awp=warmup:5', { eps: 0.1 })[0]!.describe!()).toMatchObject({ gamma: 0.005, warmupEpochs: 5 });
    expect(() => parseAwp('warmup:1.5')).toThrow(/awp "warmup:1.5": .*warmup a whole number of epochs, e.g. awp=gamma:0.005\+warmup:5/);
    expect(() => parseAwp('beta:1')).toThrow(/awp "beta:1"/);
    // A second colon is not a value: before optionParts it was dropped silently (gamma:0.01:3 → 0.01).
    expect(() => parseAwp('gamma:0.01:3')).toThrow(/awp "gamma:0.01:3"/);
    expect(() => parseAwp('warmup:')).toThrow(/awp "warmup:"/);
    expect(() => parseAwp('gamma:0.01+')).toThrow(/awp "": /);
    expect(() => parseAwp('abc')).toThrow(/awp γ "abc" is not a number/);
  });

  it('a bad γ is refused; two perturbations are refused', () => {
    expect(() => makeDefenses('awp=0', { eps: 0.1 })).toThrow(/awp=0: γ must be a positive number/);
    expect(() => composeDefenses(makeDefenses('pgd-at,awp,awp=0.01', { eps: 0.1 }))).toThrow(/both perturb the weights/);
  });
});
