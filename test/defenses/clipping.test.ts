import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyMaxNorm, clipGradients, clipGradientsByGlobalNorm, clipGradientsByNorm, clipGradientsByValue, clipMeasure, selectLayers } from '../../defenses/clipping.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { useTestBackend } from '../helpers/backend.js';

/** Hand-built gradients: ‖a‖ = 5, ‖b‖ = 12, global norm √(25 + 144) = 13. */
function grads(): tf.NamedTensorMap {
  return { 'dense_A/kernel': tf.tensor2d([[3, 4]]), 'dense_B/kernel': tf.tensor1d([12]) };
}

function values(map: tf.NamedTensorMap): Record<string, number[]> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, Array.from(v.dataSync())]));
}

function close(actual: Record<string, number[]>, expected: Record<string, number[]>): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const k of Object.keys(expected)) expected[k]!.forEach((v, i) => expect(actual[k]![i]).toBeCloseTo(v, 5));
}

describe('gradient clipping', () => {
  beforeAll(useTestBackend);

  it('by global norm: ‖G‖ = 13 > C scales every tensor by C/13; below C leaves them alone', () => {
    close(values(clipGradientsByGlobalNorm(grads(), 1)), { 'dense_A/kernel': [3 / 13, 4 / 13], 'dense_B/kernel': [12 / 13] });
    close(values(clipGradientsByGlobalNorm(grads(), 6.5)), { 'dense_A/kernel': [1.5, 2], 'dense_B/kernel': [6] });
    close(values(clipGradientsByGlobalNorm(grads(), 20)), { 'dense_A/kernel': [3, 4], 'dense_B/kernel': [12] });
  });

  it('measures what it clips on (max |g| = 12, max tensor norm 12, global norm 13) and records how often it acted', () => {
    expect(clipMeasure('clip-value', grads())).toBeCloseTo(12, 5);
    expect(clipMeasure('clip-norm', grads())).toBeCloseTo(12, 5);
    expect(clipMeasure('clip-global', grads())).toBeCloseTo(13, 5);
    expect(clipMeasure('clip-global', grads(), selectLayers(['dense_A']))).toBeCloseTo(5, 5);
    const d = clipGradients('clip-global', 10);
    expect(d.describe!()).toEqual({ threshold: 10, layers: 'all', steps: 0, stepsClipped: 0 });
    const small = { 'dense_A/kernel': tf.tensor2d([[0.3, 0.4]]), 'dense_B/kernel': tf.tensor1d([1.2]) };
    for (const g of [grads(), small, small]) d.gradients!(g, undefined as never);
    expect(d.describe!()).toMatchObject({ steps: 3, stepsClipped: 1, measure: 'global ‖g‖₂', maxBeforeClip: 13 });
    expect(d.describe!().medianBeforeClip as number).toBeCloseTo(1.3, 5);
  });

  it('by per-tensor norm: each tensor on its own (‖a‖ = 5 → ×1/5 at C = 1, ‖b‖ = 12 untouched at C = 12)', () => {
    close(values(clipGradientsByNorm(grads(), 1)), { 'dense_A/kernel': [0.6, 0.8], 'dense_B/kernel': [1] });
    close(values(clipGradientsByNorm(grads(), 12)), { 'dense_A/kernel': [3, 4], 'dense_B/kernel': [12] });
  });

  it('by value: each element to [−C, C]', () => {
    const g = { w: tf.tensor1d([-5, -0.5, 0, 0.5, 5]) };
    close(values(clipGradientsByValue(g, 1)), { w: [-1, -0.5, 0, 0.5, 1] });
  });

  it('only named layers: the others pass through unchanged, and the global norm is over the chosen ones', () => {
    const only = selectLayers(['dense_A']);
    expect(only('dense_A/kernel')).toBe(true);
    expect(only('dense_A/bias')).toBe(true);
    expect(only('dense_AB/kernel')).toBe(false);
    close(values(clipGradientsByGlobalNorm(grads(), 1, only)), { 'dense_A/kernel': [0.6, 0.8], 'dense_B/kernel': [12] });
    close(values(clipGradientsByValue(grads(), 1, selectLayers(['dense_B']))), { 'dense_A/kernel': [3, 4], 'dense_B/kernel': [1] });
  });

  it('keeps the keys in their order (momentum optimizers match gradients by position)', () => {
    const d = clipGradients('clip-global', 1, ['dense_B']);
    expect(d.name).toBe('clip-global=1@dense_B');
    expect(Object.keys(d.gradients!(grads(), undefined as never))).toEqual(['dense_A/kernel', 'dense_B/kernel']);
  });

  it('max-norm rescales each unit’s incoming weights (columns of a dense kernel) to norm ≤ M and leaves biases', () => {
    const model = buildArchitecture('mlp', [2, 2, 1], 2, 0);
    const [kernel, bias] = model.layers[1]!.trainableWeights;
    // Column 0 has norm 5·2 = 10, column 1 norm 0.5: only column 0 is rescaled (to norm 2).
    kernel!.write(tf.tensor2d([[6, 0.3], [8, 0.4], [0, 0], [0, 0]]).tile([1, 128]) as tf.Tensor2D);
    bias!.write(tf.fill([256], 7));
    applyMaxNorm(model.trainableWeights, 2, selectLayers([model.layers[1]!.name]));
    const k = kernel!.read().arraySync() as number[][];
    expect(k[0]![0]).toBeCloseTo(1.2, 4);
    expect(k[1]![0]).toBeCloseTo(1.6, 4);
    expect(k[0]![1]).toBeCloseTo(0.3, 5);
    expect(Array.from(bias!.read().dataSync()).every((v) => v === 7)).toBe(true);
    model.dispose();
  });
});
