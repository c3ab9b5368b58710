import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { trainModel } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

describe('trainModel', () => {
  beforeAll(useTestBackend);
  const data = balancedSubset(loadMnist('train'), 256);

  it('trains the mnist-cnn on wasm (needs our Conv2DBackpropFilter) and lowers the loss', async () => {
    const model = buildArchitecture('mnist-cnn', [28, 28, 1], 10, 1);
    const losses: number[] = [];
    await trainModel(model, data, { epochs: 3, batchSize: 64, seed: 1, onStep: (p) => losses.push(p.loss) });
    const first = losses.slice(0, 4).reduce((a, b) => a + b) / 4;
    const last = losses.slice(-4).reduce((a, b) => a + b) / 4;
    expect(last).toBeLessThan(first * 0.8);
    model.dispose();
  });

  it('is reproducible: the same seed gives the same weights', async () => {
    const weightsAfter = async () => {
      const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
      await trainModel(model, data, { epochs: 1, batchSize: 32, seed: 5 });
      const w = model.getWeights().map((t) => Array.from(t.dataSync()));
      model.dispose();
      return w;
    };
    expect(await weightsAfter()).toEqual(await weightsAfter());
  });

  it('leaks no tensor over a training run (optimizer state included)', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    // The model's own variables exist before; the run must add nothing that stays.
    expect(await leakedTensors(() => trainModel(model, data, { epochs: 1, batchSize: 64, seed: 1, optimizer: 'nesterov' }))).toBe(0);
    expect(await leakedTensors(() => trainModel(model, data, { epochs: 1, batchSize: 64, seed: 1, optimizer: 'adam' }))).toBe(0);
    model.dispose();
  });

  it('applies the gradient hook (zero gradients leave the weights unchanged)', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    const before = model.getWeights().map((t) => Array.from(t.dataSync()));
    await trainModel(model, data, {
      epochs: 1,
      optimizer: 'sgd',
      hooks: { gradients: (g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, tf.zerosLike(v)])) },
    });
    expect(model.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
    model.dispose();
  });
});
