// BatchNormalization folded into the preceding conv (issue 21): same logits and same input
// gradients as the unfolded model, on a small MobileNetV2 (conv, depthwise, residual adds,
// Relu6) with non-trivial BN statistics; tolerance 1e-4 relative to the largest value (float32
// rounding of a reassociated product, nothing else).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldBatchNorm } from '../../src/model/fold-batch-norm.js';
import { initBackend } from '../../src/backend/select.js';
import { mobileNetV2 } from '../helpers/mobilenet.js';
import { relErr } from '../backend/cpu-reference.js';

beforeAll(async () => {
  await initBackend('wasm', { threads: 1 });
});

function inputGradient(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.grad((xx) => tf.losses.softmaxCrossEntropy(y, model.apply(xx) as tf.Tensor, undefined, tf.Reduction.SUM))(x).dataSync() as Float32Array).slice();
}

describe('foldBatchNorm', () => {
  it('MobileNetV2 (small): every BN folded, logits and input gradients unchanged', () => {
    const before = tf.memory().numTensors;
    const model = mobileNetV2({ seed: 3, inputShape: [32, 32, 3], classes: 10, blocks: [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 1]], lastFilters: 64, stemFilters: 16 });
    const bnCount = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    const { model: folded, folded: n } = foldBatchNorm(model);
    expect(n).toBe(bnCount);
    expect(folded.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(0);
    const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 5);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([1, 4, 7], 'int32'), 10));
    const logits = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array).slice();
    const logitsFolded = tf.tidy(() => (folded.predict(x) as tf.Tensor).dataSync() as Float32Array).slice();
    expect(relErr(logitsFolded, logits)).toBeLessThanOrEqual(1e-4);
    const g = inputGradient(model, x, y);
    const gFolded = inputGradient(folded, x, y);
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(0);
    expect(relErr(gFolded, g)).toBeLessThanOrEqual(1e-4);
    tf.dispose([x, y]);
    model.dispose();
    folded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a conv with a bias and a BN without scale/center; a conv used twice is left alone', () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: true, biasInitializer: 'ones', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
    const c = conv.apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ scale: false, center: false, movingMeanInitializer: 'ones', movingVarianceInitializer: tf.initializers.constant({ value: 4 }) }).apply(c) as tf.SymbolicTensor;
    const shared = tf.layers.conv2d({ filters: 3, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(bn) as tf.SymbolicTensor;
    const bn2 = tf.layers.batchNormalization({ movingMeanInitializer: 'ones' }).apply(shared) as tf.SymbolicTensor;
    const out = tf.layers.add().apply([bn2, shared]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const { model: folded, folded: n } = foldBatchNorm(model);
    expect(n).toBe(1); // the second conv feeds both bn2 and the add
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 9);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (folded.predict(x) as tf.Tensor).dataSync();
    expect(relErr(b, a)).toBeLessThanOrEqual(1e-5);
    expect(foldBatchNorm(tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] })).reason).toMatch(/Sequential/);
  });
});
