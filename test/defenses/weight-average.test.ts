import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { composeDefenses } from '../../defenses/defense.js';
import { makeDefenses } from '../../defenses/registry.js';
import { emaDecay, weightAverage } from '../../defenses/weight-average.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { trainModel, type HookContext } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { expectSameValues } from '../helpers/same-values.js';

/** A one-weight "model" whose weight the test sets before each after-step hook. */
function scalarModel(): tf.LayersModel {
  return tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1, useBias: false, kernelInitializer: 'zeros' })] });
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('ema: exponential moving average of the weights', () => {
  beforeAll(useTestBackend);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-ema-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('decay min(τ, (1 + t)/(10 + t))', () => {
    expect(emaDecay(0.999, 0)).toBeCloseTo(0.1, 12);
    expect(emaDecay(0.999, 8)).toBeCloseTo(0.5, 12);
    expect(emaDecay(0.999, 100_000)).toBe(0.999);
  });

  it('the average after 3 steps with weights 1, 2, 4 is 38/11 (worked by hand)', async () => {
    // Step 0 starts the average at 1; step 1: d = 2/11 → 2/11·1 + 9/11·2 = 20/11;
    // step 2: d = 3/12 → ¼·20/11 + ¾·4 = 38/11.
    const model = scalarModel();
    const d = weightAverage();
    [1, 2, 4].forEach((w, step) => {
      model.setWeights([tf.tensor2d([[w]])]);
      tf.tidy(() => d.afterStep!({ model, step } as HookContext));
    });
    const seen = await d.withEvaluationWeights!(model, async () => model.getWeights()[0]!.dataSync()[0]);
    expect(seen).toBeCloseTo(38 / 11, 5);
    // Evaluation swaps the trained weights back in; finish leaves the average.
    expect(model.getWeights()[0]!.dataSync()[0]).toBe(4);
    d.finish!(model);
    expect(model.getWeights()[0]!.dataSync()[0]).toBeCloseTo(38 / 11, 5);
    d.dispose!();
    model.dispose();
  });

  it('a bad τ is refused; two averages are refused', () => {
    expect(() => makeDefenses('ema=1', { eps: 0.1 })).toThrow(/ema=1: the decay τ must be in \(0, 1\)/);
    expect(() => composeDefenses(makeDefenses('ema,ema=0.99', { eps: 0.1 }))).toThrow(/both average the weights/);
  });

  const data = () => balancedSubset(loadMnist('train'), 96);

  it('the trained model ends holding the average of the weights after each step', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 1);
    const after: number[][] = [];
    // 96 digits in batches of 32: three steps, t = 0, 1, 2.
    await trainModel(model, data(), {
      epochs: 1, batchSize: 32, seed: 2, optimizer: 'sgd', learningRate: 0.1, hooks: composeDefenses(makeDefenses('ema=0.5', { eps: 0.1 })),
      onStep: () => after.push(Array.from(model.getWeights()[0]!.dataSync())),
    });
    const [w0, w1, w2] = after as [number[], number[], number[]];
    const d1 = Math.min(0.5, 2 / 11);
    const d2 = Math.min(0.5, 3 / 12);
    const expected = w0.map((a, i) => d2 * (d1 * a + (1 - d1) * w1[i]!) + (1 - d2) * w2[i]!);
    const final = Array.from(model.getWeights()[0]!.dataSync());
    expect(maxAbsDiff(final, expected)).toBeLessThan(1e-6);
    expect(maxAbsDiff(final, w2)).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it('a run killed after epoch 1 and resumed ends with the weights of an uninterrupted one (average in the checkpoint)', async () => {
    const train = async (epochs: number, checkpoint?: string) => {
      const model = buildArchitecture('mlp', [28, 28, 1], 10, 1);
      await trainModel(model, data(), { epochs, batchSize: 32, seed: 3, hooks: composeDefenses(makeDefenses('ema=0.9', { eps: 0.1 })), ...(checkpoint ? { checkpoint: { dir: checkpoint, key: 'ema-test' } } : {}) });
      const w = weightsOf(model);
      model.dispose();
      return w;
    };
    const uninterrupted = await train(2);
    const ck = path.join(dir, 'run.checkpoint');
    await train(1, ck);
    const resumed = await train(2, ck);
    expectSameValues(resumed, uninterrupted, 'weights');
    // Had the checkpoint not kept the average, the resumed run would restart it from epoch 2's weights.
    const forgetful = composeDefenses(makeDefenses('ema=0.9', { eps: 0.1 }));
    delete forgetful.restoreState;
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 1);
    await train(1, path.join(dir, 'other.checkpoint'));
    await trainModel(model, data(), { epochs: 2, batchSize: 32, seed: 3, hooks: forgetful, checkpoint: { dir: path.join(dir, 'other.checkpoint'), key: 'ema-test' } });
    expect(weightsOf(model)).not.toEqual(uninterrupted);
    model.dispose();
  });

  it('the held-out monitor evaluates the average (and leaves no tensor behind)', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 1);
    const seen: number[][] = [];
    const hooks = composeDefenses(makeDefenses('ema=0.9', { eps: 0.1 }));
    const inner = hooks.withEvaluationWeights!;
    hooks.withEvaluationWeights = (m, fn) => inner(m, async () => {
      seen.push(Array.from(m.getWeights()[0]!.dataSync()));
      return fn();
    });
    const d = data();
    let trained: number[] = [];
    const leaked = await leakedTensors(() => trainModel(model, d, {
      epochs: 1, batchSize: 32, seed: 3, hooks,
      monitor: { data: balancedSubset(loadMnist('test'), 20), attack: makeAttack('fgsm'), eps: 0.1 },
      onEpoch: () => { trained = Array.from(model.getWeights()[0]!.dataSync()); },
    }));
    expect(leaked).toBe(0);
    // onEpoch runs before finish: the trained weights; the monitor saw others (the average); the model ends with the average.
    expect(seen).toHaveLength(1);
    expect(maxAbsDiff(seen[0]!, trained)).toBeGreaterThan(1e-4);
    expect(Array.from(model.getWeights()[0]!.dataSync())).toEqual(seen[0]);
    model.dispose();
  });
});
