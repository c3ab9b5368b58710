import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { ARCHITECTURES, buildArchitecture } from '../../src/model/architectures.js';
import { trainModel } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

describe('madry-cnn: the MNIST challenge network', () => {
  beforeAll(useTestBackend);

  it('is conv 32·5×5 → pool → conv 64·5×5 → pool → dense 1024 → 10, 3,274,634 weights, and selectable by name', () => {
    expect(ARCHITECTURES).toContain('madry-cnn');
    const model = buildArchitecture('madry-cnn', [28, 28, 1], 10, 0);
    // (5·5·1·32 + 32) + (5·5·32·64 + 64) + (7·7·64·1024 + 1024) + (1024·10 + 10), by hand.
    expect(model.countParams()).toBe(832 + 51_264 + 3_212_288 + 10_250);
    expect(model.layers.map((l) => l.outputShape)).toEqual([
      [null, 28, 28, 32], [null, 14, 14, 32], [null, 14, 14, 64], [null, 7, 7, 64], [null, 3136], [null, 1024], [null, 10],
    ]);
    // Seeded: the same seed builds the same weights, another seed others.
    const again = buildArchitecture('madry-cnn', [28, 28, 1], 10, 0);
    const other = buildArchitecture('madry-cnn', [28, 28, 1], 10, 1);
    const first = (m: tf.LayersModel) => Array.from(m.getWeights()[0]!.dataSync());
    expect(first(again)).toEqual(first(model));
    expect(first(other)).not.toEqual(first(model));
    [model, again, other].forEach((m) => m.dispose());
  });

  it('trains on wasm (5×5 "same" convolution gradients) without leaking', async () => {
    const model = buildArchitecture('madry-cnn', [28, 28, 1], 10, 0);
    const before = Array.from(model.getWeights()[2]!.dataSync().slice(0, 50));
    const leaked = await leakedTensors(() => trainModel(model, balancedSubset(loadMnist('train'), 32), { epochs: 1, batchSize: 16, seed: 0 }));
    expect(leaked).toBe(0);
    const after = Array.from(model.getWeights()[2]!.dataSync().slice(0, 50));
    expect(after.every(Number.isFinite)).toBe(true);
    expect(after).not.toEqual(before);
    model.dispose();
  });
});
