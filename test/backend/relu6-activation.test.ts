import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRelu6Activation, unregisterRelu6Activation } from '../../src/backend/relu6-activation.js';
import { useTestBackend } from '../helpers/backend.js';

/** conv → 'relu6' → dense: pre-activations spread over [−3, 9], so both bends are crossed. */
function model(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2] });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu6', kernelInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 2, seed: 1 }), biasInitializer: 'zeros' });
  const dense = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) });
  return tf.model({ inputs: input, outputs: dense.apply(tf.layers.flatten().apply(conv.apply(input))) as tf.SymbolicTensor });
}

async function kernelsOf(fn: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => fn());
  return info.kernels.map((k) => k.name);
}

describe("tf.layers' 'relu6' activation", () => {
  beforeAll(useTestBackend);
  afterAll(registerRelu6Activation);

  it('is what a model built after the backend starts gets (initBackend registers it)', async () => {
    const m = model();
    const x = tf.zeros([1, 6, 6, 2]);
    const kernels = await kernelsOf(() => m.predict(x) as tf.Tensor);
    expect(kernels).toContain('Relu6');
    expect(kernels).not.toContain('Minimum');
    tf.dispose(x);
    m.dispose();
  });

  it('runs as the one Relu6 kernel, computing what the stock minimum(6, relu(x)) computes, value and input gradient', async () => {
    const x = tf.randomUniform([5, 6, 6, 2], 0, 1, 'float32', 3);
    const w = tf.randomNormal([5, 3], 0, 1, 'float32', 4);
    const run = (m: tf.LayersModel) => ({
      y: tf.tidy(() => Array.from((m.predict(x) as tf.Tensor).dataSync())),
      g: tf.tidy(() => Array.from(tf.grad((xx) => tf.sum(tf.mul(m.apply(xx) as tf.Tensor, w)))(x).dataSync())),
    });
    unregisterRelu6Activation();
    const stock = model();
    expect(await kernelsOf(() => stock.predict(x) as tf.Tensor)).toEqual(expect.arrayContaining(['Relu', 'Minimum']));
    registerRelu6Activation();
    const ours = model();
    const kernels = await kernelsOf(() => ours.predict(x) as tf.Tensor);
    expect(kernels).toContain('Relu6');
    expect(kernels).not.toContain('Minimum');
    const a = run(stock);
    const b = run(ours);
    // Some pre-activations lie on each side of both bends (else the comparison proves little).
    const pre = tf.tidy(() => Array.from(tf.conv2d(x as tf.Tensor4D, ours.layers[1]!.getWeights()[0] as tf.Tensor4D, 1, 'valid').dataSync()));
    expect(pre.some((v) => v < 0) && pre.some((v) => v > 0 && v < 6) && pre.some((v) => v > 6)).toBe(true);
    b.y.forEach((v, i) => expect(v).toBeCloseTo(a.y[i]!, 5));
    b.g.forEach((v, i) => expect(v).toBeCloseTo(a.g[i]!, 5));
    expect(b.g.some((v) => v !== 0)).toBe(true);
    // A saved model still names the activation 'relu6'.
    expect(JSON.stringify(ours.layers[1]!.getConfig())).toContain('"activation":"relu6"');
    tf.dispose([x, w]);
    stock.dispose();
    ours.dispose();
  });

  it('is restored to the stock class by unregistering, and registering twice keeps one', async () => {
    registerRelu6Activation();
    registerRelu6Activation();
    unregisterRelu6Activation();
    const m = model();
    const x = tf.zeros([1, 6, 6, 2]);
    expect(await kernelsOf(() => m.predict(x) as tf.Tensor)).toContain('Minimum');
    registerRelu6Activation();
    tf.dispose(x);
    m.dispose();
  });
});
