import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setSimdKernelsEnabled } from '../../src/backend/simd-kernels.js';
import { registerAdamKernel, unregisterAdamKernel } from '../../src/backend/wasm-adam.js';
import { makeOptimizer } from '../../src/train/optimizers.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

// Sizes with and without a 4-lane tail.
const SHAPES = [[3, 3, 1, 5], [7], [13, 11], [1]];

interface Run {
  weights: number[][];
  slots: { name: string; values: number[] }[];
}

/** n steps of an optimizer on fresh variables with fixed pseudo-random gradients; the weights and slots after. */
async function steps(opt: tf.Optimizer, n: number, changeLr?: (step: number) => void): Promise<Run> {
  const vars = SHAPES.map((s, i) => {
    const init = tf.randomNormal(s, 0, 1, 'float32', i + 1);
    const v = tf.variable(init, true, `adam-test-${i}-${Math.random()}`);
    init.dispose();
    return v;
  });
  for (let step = 0; step < n; step++) {
    changeLr?.(step);
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => {
      grads[v.name] = tf.randomNormal(v.shape, 0, step === 0 ? 1e-6 : 3, 'float32', 100 * step + i + 1);
    });
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const weights = vars.map((v) => Array.from(v.dataSync()));
  const saved = await opt.getWeights();
  const slots = saved.map((w) => ({ name: w.name.replace(/-[0-9.]+\//, '/'), values: Array.from(w.tensor.dataSync()) }));
  // getWeights makes a new tensor for the iteration count; the slots are the optimizer's.
  tf.dispose([...vars, saved[0]!.tensor]);
  return { weights, slots };
}

describe("Adam's update as one kernel (backend/wasm-adam.ts, train/optimizers.ts)", () => {
  beforeAll(useTestBackend);
  afterEach(() => {
    setSimdKernelsEnabled(true);
    registerAdamKernel();
  });

  it("gives tfjs's Adam bit for bit: weights, moments and iteration count, SIMD and JS loop, with a learning-rate schedule", async () => {
    const schedule = (opt: tf.Optimizer) => (step: number) => {
      (opt as unknown as { learningRate: number }).learningRate = 0.01 / (1 + step);
    };
    const stockOpt = tf.train.adam(0.01);
    const stock = await steps(stockOpt, 6, schedule(stockOpt));
    stockOpt.dispose();
    for (const simd of [true, false]) {
      setSimdKernelsEnabled(simd);
      const opt = makeOptimizer('adam', 0.01);
      const profile = await tf.profile(async () => {
        await steps(opt, 1);
      });
      expect(profile.kernels.map((k) => k.name), `simd ${simd}`).toContain('AdvtestAdam');
      opt.dispose();
      const ours = makeOptimizer('adam', 0.01);
      const run = await steps(ours, 6, schedule(ours));
      ours.dispose();
      expect(run.weights, `simd ${simd}`).toEqual(stock.weights);
      expect(run.slots, `simd ${simd}`).toEqual(stock.slots);
    }
    // The runs moved the weights: the comparison is not between untouched variables.
    const initial = tf.tidy(() => Array.from(tf.randomNormal(SHAPES[0]!, 0, 1, 'float32', 1).dataSync()));
    expect(stock.weights[0]).not.toEqual(initial);
  });

  it("falls back to tfjs's Adam where the kernel is not registered, with the same result", async () => {
    const stockOpt = tf.train.adam(0.003);
    const stock = await steps(stockOpt, 3);
    stockOpt.dispose();
    unregisterAdamKernel();
    const opt = makeOptimizer('adam', 0.003);
    const profile = await tf.profile(async () => {
      await steps(opt, 3);
    });
    opt.dispose();
    expect(profile.kernels.map((k) => k.name)).not.toContain('AdvtestAdam');
    const again = makeOptimizer('adam', 0.003);
    expect((await steps(again, 3)).weights).toEqual(stock.weights);
    again.dispose();
  });

  it('leaks no tensor per step', async () => {
    const opt = makeOptimizer('adam', 0.001);
    await steps(opt, 1);
    expect(await leakedTensors(() => steps(opt, 3))).toBe(0);
    opt.dispose();
  });
});
