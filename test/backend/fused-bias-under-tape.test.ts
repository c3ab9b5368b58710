import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fusedBiasUnderTapeRegistered,
  registerFusedBiasUnderTape,
  unregisterFusedBiasUnderTape,
} from '../../src/backend/fused-bias-under-tape.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

type Kernels = Awaited<ReturnType<typeof tf.profile>>['kernels'];

/** conv(relu) → conv(elu) → dense(relu) → dense: the fused ops and activations tf.layers uses. */
function model(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.6, seed });
  const bias = (seed: number) => tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1), biasInitializer: bias(2) }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'elu', kernelInitializer: init(3), biasInitializer: bias(4) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: init(5), biasInitializer: bias(6) }),
      tf.layers.dense({ units: 3, kernelInitializer: init(7) }),
    ],
  });
}

/** The loss, its gradient with respect to the input and to every weight, and the kernels run. */
async function gradients(m: tf.LayersModel, x: tf.Tensor, w: tf.Tensor): Promise<{ values: number[][]; kernels: Kernels }> {
  let values: number[][] = [];
  const info = await tf.profile(() => {
    values = tf.tidy(() => {
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(m.apply(xx) as tf.Tensor, w)) as tf.Scalar;
      const dx = tf.grad(f)(x);
      const { value, grads } = tf.variableGrads(() => f(x));
      return [[value.dataSync()[0]!], Array.from(dx.dataSync()), ...m.trainableWeights.map((v) => Array.from(grads[v.originalName]!.dataSync()))];
    });
  });
  return { values, kernels: info.kernels };
}

/** Broadcast adds over an activation (the bias added outside the fused kernel). */
function biasAdds(kernels: Kernels): number {
  return kernels.filter((k) => (k.name === 'Add' || k.name === 'AddV2') && k.inputShapes.some((s) => s.length === 1)).length;
}

describe('fused ops keep their bias under a tape (fused-bias-under-tape.ts)', () => {
  beforeAll(useTestBackend);
  afterAll(registerFusedBiasUnderTape);

  it('is installed by the backend set-up', () => {
    expect(fusedBiasUnderTapeRegistered()).toBe(true);
  });

  it("gives tfjs's unfused values and gradients (conv relu and elu, dense relu) without a separate bias Add", async () => {
    const m = model();
    const x = tf.randomUniform([3, 8, 8, 2], -1, 1, 'float32', 8);
    const w = tf.randomNormal([3, 3], 0, 1, 'float32', 9);
    unregisterFusedBiasUnderTape();
    expect(fusedBiasUnderTapeRegistered()).toBe(false);
    const stock = await gradients(m, x, w);
    registerFusedBiasUnderTape();
    const ours = await gradients(m, x, w);
    // The stock path adds each layer's bias separately: the test compares two different paths.
    expect(biasAdds(stock.kernels)).toBeGreaterThanOrEqual(3);
    expect(biasAdds(ours.kernels)).toBe(0);
    expect(ours.kernels.map((k) => k.name)).toEqual(expect.arrayContaining(['FusedConv2D', '_FusedMatMul', 'Relu', 'Elu']));
    expect(ours.values.length).toBe(stock.values.length);
    stock.values.forEach((a, i) => {
      const b = ours.values[i]!;
      expect(b.length).toBe(a.length);
      const scale = Math.max(...a.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      a.forEach((v, j) => expect(Math.abs(b[j]! - v)).toBeLessThanOrEqual(1e-5 * scale));
    });
    // Both sides of each bend are crossed, or the gradients would not test the activations.
    const [k0, b0] = m.layers[0]!.getWeights() as [tf.Tensor4D, tf.Tensor1D];
    const pre = tf.tidy(() => Array.from(tf.add(tf.conv2d(x as tf.Tensor4D, k0, 1, 'valid'), b0).dataSync()));
    expect(pre.some((v) => v < 0) && pre.some((v) => v > 0)).toBe(true);
    tf.dispose([x, w]);
    m.dispose();
  });

  it("gives tfjs's unfused gradient for tf.fused.conv2d called directly with relu6", () => {
    const x = tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 12);
    const filter = tf.randomNormal([3, 3, 3, 4], 0, 2, 'float32', 13);
    const b = tf.randomUniform([4], -1, 1, 'float32', 14);
    const run = () =>
      tf.tidy(() => {
        const g = tf.grads((xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ff as tf.Tensor4D, bias: bb, strides: 1, pad: 'same', activation: 'relu6' }))),
        )([x, filter, b]);
        return g.map((t) => Array.from(t.dataSync()));
      });
    unregisterFusedBiasUnderTape();
    const stock = run();
    registerFusedBiasUnderTape();
    const ours = run();
    // Pre-activations beyond 6 and below 0, so both ends of relu6 are crossed.
    const pre = tf.tidy(() => Array.from(tf.add(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), b).dataSync()));
    expect(pre.some((v) => v < 0) && pre.some((v) => v > 6)).toBe(true);
    stock.forEach((a, i) => {
      const scale = Math.max(...a.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      a.forEach((v, j) => expect(Math.abs(ours[i]![j]! - v)).toBeLessThanOrEqual(1e-5 * scale));
    });
    tf.dispose([x, filter, b]);
  });

  it('leaves no tensor behind, and outside a tape calls tfjs unchanged', async () => {
    const m = model();
    const x = tf.randomUniform([2, 8, 8, 2], -1, 1, 'float32', 10);
    const w = tf.randomNormal([2, 3], 0, 1, 'float32', 11);
    await gradients(m, x, w);
    expect(await leakedTensors(() => gradients(m, x, w))).toBe(0);
    const info = await tf.profile(() => tf.tidy(() => m.predict(x) as tf.Tensor).dispose());
    // Inference was fused by tfjs already: the activation runs inside the kernel.
    expect(info.kernels.map((k) => k.name)).not.toContain('Relu');
    tf.dispose([x, w]);
    m.dispose();
  });
});
