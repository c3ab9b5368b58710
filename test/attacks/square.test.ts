import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { apgd } from '../../attacks/apgd.js';
import { square, squareFraction, squareSide } from '../../attacks/square.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { AttackContext, Classifier, Criterion } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

const ctx = (seed = 1): AttackContext => ({ seed, costs: { gradients: 0, queries: 0 } });

/**
 * The model behind a wall: the forward pass works, a gradient through it throws, and every row
 * it scores is counted — what a score-based attack may use, and how much.
 */
function scoresOnly(model: Classifier): Classifier & { rows: number } {
  const wall = tf.customGrad((...inputs) => ({
    value: tf.clone(inputs[0] as tf.Tensor),
    gradFunc: () => {
      throw new Error('a gradient was asked of a score-only model');
    },
  }));
  const wrapped = {
    ...model,
    rows: 0,
    logits: (x: tf.Tensor4D) => {
      wrapped.rows += x.shape[0];
      return tf.tidy(() => wall(model.logits(x)) as tf.Tensor2D);
    },
  };
  return wrapped;
}

/** Three classes over a 4×4 image; class 0's bias of 5 is more than ε = 0.05 can overturn (≤ 0.05·16·2 = 1.6). */
const W3 = Array.from({ length: 3 }, (_, k) => Array.from({ length: 16 }, (_, p) => Math.round(Math.sin(p * (k + 1) + k) * 100) / 100));
const linear3 = (bias = [5, 0, 0]) => linearClassifier(W3, bias, [4, 4, 1]);
const X3 = Array.from({ length: 2 * 16 }, (_, i) => 0.5 + 0.3 * Math.cos(i));

/** z_y − max_{i≠y} z_i per example. */
function margins(model: Classifier, x: tf.Tensor4D, labels: number[]): number[] {
  const z = tf.tidy(() => model.logits(x).arraySync());
  return z.map((row, i) => row[labels[i]!]! - Math.max(...row.filter((_, j) => j !== labels[i])));
}

describe('the p schedule', () => {
  it('halves p_init after iterations 10, 50, 200, … of 10 000, rescaled to the budget', async () => {
    expect(squareFraction(10, 10000)).toBe(0.8);
    expect(squareFraction(11, 10000)).toBe(0.4);
    expect(squareFraction(51, 10000)).toBe(0.2);
    expect(squareFraction(8001, 10000)).toBe(0.8 / 512);
    // 1000 queries: iteration i counts as 10·i.
    expect(squareFraction(1, 1000)).toBe(0.8);
    expect(squareFraction(2, 1000)).toBe(0.4);
    expect(squareFraction(20, 1000)).toBe(0.2);
    expect(squareFraction(21, 1000)).toBe(0.1);
    expect(squareFraction(999, 1000)).toBe(0.8 / 512);
    expect(squareFraction(0, 1000, 0.5)).toBe(0.5);
  });

  it('sizes the square as round(√(p·h·w)), at least 1 and at most the image', async () => {
    expect(squareSide(0.8, 28, 28)).toBe(25); // √627.2 = 25.04
    expect(squareSide(0.4, 28, 28)).toBe(18); // √313.6 = 17.7
    expect(squareSide(0.8 / 512, 28, 28)).toBe(1); // √1.225 = 1.1
    expect(squareSide(1e-6, 28, 28)).toBe(1);
    expect(squareSide(1, 4, 4)).toBe(4);
    expect(squareSide(1, 2, 8)).toBe(2);
  });
});

describe('Square Attack on a linear model', () => {
  beforeAll(useTestBackend);

  it('lowers the margin within budget and box, and spends the whole budget on an unbreakable example', async () => {
    const model = linear3();
    const x = tf.tensor4d(X3, [2, 4, 4, 1]);
    const c: Criterion = { labels: tf.tensor1d([0, 0], 'int32'), targeted: false };
    const context = ctx();
    const adv = await square({ queries: 300 }).run(model, x, c, 0.05, context);
    const clean = margins(model, x, [0, 0]);
    const after = margins(model, adv, [0, 0]);
    // The best vertex lowers the margin by ε·‖W₀ − W_k‖₁ for the runner-up k; random search gets most of the way.
    for (let i = 0; i < 2; i++) expect(after[i]).toBeLessThan(clean[i]! - 0.3);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(adv, x))).dataSync()[0]!)).toBeLessThanOrEqual(0.05 + 1e-6);
    expect(tf.min(adv).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(adv).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(context.costs).toEqual({ gradients: 0, queries: 2 * 300 });
    tf.dispose([adv, x, c.labels]);
    model.dispose();
  });

  it('stops querying an example once it is fooled', async () => {
    const model = linear3();
    const x = tf.tensor4d(X3, [2, 4, 4, 1]);
    // Label 1 for an image the bias puts in class 0: already fooled at the start.
    const c: Criterion = { labels: tf.tensor1d([1, 0], 'int32'), targeted: false };
    const context = ctx();
    (await square({ queries: 50 }).run(model, x, c, 0.05, context)).dispose();
    expect(context.costs.queries).toBe(1 + 50);
    tf.dispose([x, c.labels]);
    model.dispose();
  });

  it('targeted: moves toward the target class (margin max_{i≠t} z_i − z_t goes down)', async () => {
    const model = linear3([0, 0, 0]);
    const x = tf.tensor4d(X3, [2, 4, 4, 1]);
    const c: Criterion = { labels: tf.tensor1d([2, 1], 'int32'), targeted: true };
    const adv = await square({ queries: 200 }).run(model, x, c, 0.05, ctx());
    const toward = (t: tf.Tensor4D) => margins(model, t, [2, 1]).map((m) => -m);
    const before = toward(x);
    const after = toward(adv);
    for (let i = 0; i < 2; i++) expect(after[i]).toBeLessThan(before[i]!);
    tf.dispose([adv, x, c.labels]);
    model.dispose();
  });

  it('never asks for a gradient, and counts every row it scores as a query', async () => {
    const inner = linear3();
    const model = scoresOnly(inner);
    const x = tf.tensor4d(X3, [2, 4, 4, 1]);
    const c: Criterion = { labels: tf.tensor1d([0, 0], 'int32'), targeted: false };
    const context = ctx();
    (await square({ queries: 40 }).run(model, x, c, 0.05, context)).dispose();
    expect(context.costs.queries).toBe(model.rows);
    expect(context.costs.gradients).toBe(0);
    // The wall works: a gradient attack on the same model fails.
    expect(() => apgd({ steps: 2 }).run(model, x, c, 0.05, ctx())).toThrow(/score-only/);
    tf.dispose([x, c.labels]);
    inner.dispose();
  });

  it('leaks no tensor', async () => {
    const model = linear3([0, 0, 0]);
    const x = tf.tensor4d(X3, [2, 4, 4, 1]);
    const c: Criterion = { labels: tf.tensor1d([0, 1], 'int32'), targeted: false };
    const t: Criterion = { labels: tf.tensor1d([2, 2], 'int32'), targeted: true };
    expect(
      await leakedTensors(async () => {
        (await square({ queries: 60 }).run(model, x, c, 0.1, ctx())).dispose();
        (await square({ queries: 60, loss: 'ce' }).run(model, x, t, 0.1, ctx())).dispose();
      }),
    ).toBe(0);
    tf.dispose([x, c.labels, t.labels]);
    model.dispose();
  });

  it('is deterministic for a seed, and draws per example (the batch does not matter)', async () => {
    const model = linear3();
    const x = tf.tensor4d(X3, [2, 4, 4, 1]);
    const c: Criterion = { labels: tf.tensor1d([0, 0], 'int32'), targeted: false };
    const run = async (seed: number, input = x, criterion = c, indices?: Int32Array, queries = 30) => {
      const context = ctx(seed);
      if (indices) context.indices = indices;
      const adv = await square({ queries }).run(model, input, criterion, 0.05, context);
      const v = Array.from(adv.dataSync());
      adv.dispose();
      return v;
    };
    const first = await run(5);
    expect(await run(5)).toEqual(first);
    // Compared at the start (stripes): on 16 pixels the search soon ends at the same vertex.
    expect(await run(6, x, c, undefined, 1)).not.toEqual(await run(5, x, c, undefined, 1));
    // Example 1 alone, told it is row 1 of the batch, follows the same path.
    const x1 = tf.slice(x, [1, 0, 0, 0], [1, 4, 4, 1]);
    const c1: Criterion = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    expect(await run(5, x1, c1, Int32Array.from([1]))).toEqual(first.slice(16));
    tf.dispose([x, x1, c.labels, c1.labels]);
    model.dispose();
  });
});

describe('Square Attack on the fixture mnist-cnn', () => {
  let model: Classifier;
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  it('cuts accuracy at ε = 0.3 with 1000 queries on 100 examples', async () => {
    const report = await evaluate(model, balancedSubset(loadMnist('test'), 100), [square({ queries: 1000 })], [0.3], { probes: false, batchSize: 100 });
    const r = report.results[0]!;
    // Measured (seed 0, wasm): 0.00 — all 95 clean-correct examples fooled, 40 queries each on average.
    expect(r.accuracy).toBeLessThanOrEqual(0.05);
    expect(r.costs.gradients).toBe(0);
    expect(r.costs.queries).toBeLessThanOrEqual(r.attacked * 1000);
    expect(r.perturbation.maxLinf).toBeLessThanOrEqual(0.3 + 1e-6);
  });

  it('reaches a random target for most examples at ε = 0.3', async () => {
    const report = await evaluate(model, balancedSubset(loadMnist('test'), 100), [square({ queries: 1000 })], [0.3], { probes: false, batchSize: 100, target: 'random' });
    // Measured (seed 0, wasm): 87 of 95 (91.6%).
    expect(report.results[0]!.success.rate).toBeGreaterThanOrEqual(0.75);
  });
});
