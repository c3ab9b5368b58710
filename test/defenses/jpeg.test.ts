import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { jpegClassifier, jpegRoundTrip, jpegTransform, sharpJpeg } from '../../defenses/jpeg.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { straightThrough } from '../../src/model/input-transform.js';
import { useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

describe('JPEG re-encoding', () => {
  let images: Float32Array;
  beforeAll(async () => {
    await useTestBackend();
    images = balancedSubset(loadMnist('test'), 20).images;
  });
  const digits = () => tf.tensor4d(images, [20, 28, 28, 1]);

  it('changes digits, more at low quality, and the tensor-op codec and sharp agree on grey images', async () => {
    const x = digits();
    const meanAbs = (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    const q90 = jpegRoundTrip(x, 90);
    const q10 = jpegRoundTrip(x, 10);
    expect(meanAbs(q90, x)).toBeGreaterThan(0.001);
    expect(meanAbs(q10, x)).toBeGreaterThan(meanAbs(q90, x));
    const viaSharp = await sharpJpeg(x, 75);
    const viaJs = jpegRoundTrip(x, 75);
    // Same quantisation tables: the two differ by rounding only.
    expect(meanAbs(viaSharp, viaJs)).toBeLessThan(1 / 255);
    expect(tf.max(tf.abs(tf.sub(viaSharp, viaJs))).dataSync()[0]).toBeLessThan(0.1);
    // Values stay 8-bit levels in [0, 1].
    const levels = Array.from(viaJs.dataSync()).map((v) => v * 255);
    expect(levels.every((v) => Math.abs(v - Math.round(v)) < 1e-3 && v >= 0 && v <= 255)).toBe(true);
  });

  it('agrees with sharp on colour images (4:2:0 chroma, triangle upsampling) to within a level on average', async () => {
    // Smooth 32×32 colour gradients, where chroma subsampling matters.
    const x = tf.tidy(() => {
      const r = tf.linspace(0, 1, 32);
      const v = tf.tile(tf.reshape(r, [1, 32, 1, 1]), [1, 1, 32, 1]);
      const h = tf.tile(tf.reshape(r, [1, 1, 32, 1]), [1, 32, 1, 1]);
      return tf.concat([v, h, tf.mul(v, h)], 3) as tf.Tensor4D;
    });
    for (const q of [50, 95]) {
      const diff = tf.abs(tf.sub(jpegRoundTrip(x, q), await sharpJpeg(x, q)));
      // Measured: mean 0.68 / 0.46 levels (max 7 / 2) at q = 50 / 95.
      expect(tf.mean(diff).dataSync()[0]! * 255).toBeLessThan(1);
    }
  });

  it('has a zero gradient, and BPDA’s straight-through surrogate passes the classifier’s gradient', () => {
    const W = [Array(784).fill(0.01), Array(784).fill(-0.01)];
    const model = jpegClassifier(linearClassifier(W, [0, 0], [28, 28, 1]), 75);
    const x = digits();
    const loss = (m: typeof model) => (t: tf.Tensor) => tf.sum(tf.slice(m.logits(t as tf.Tensor4D), [0, 0], [-1, 1]));
    expect(tf.max(tf.abs(tf.grad(loss(model))(x))).dataSync()[0]).toBe(0);
    const surrogate = straightThrough(model);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(surrogate.logits(t as tf.Tensor4D), [0, 0], [-1, 1])))(x);
    expect(tf.min(g).dataSync()[0]).toBeCloseTo(0.01, 6);
    // The forward pass of the surrogate is the JPEG one.
    expect(Array.from(surrogate.logits(x).dataSync())).toEqual(Array.from(model.logits(x).dataSync()));
  });

  it('answers queries through sharp and names its codecs; refuses a bad quality', async () => {
    const base = linearClassifier([Array(784).fill(1), Array(784).fill(0)], [0, 0], [28, 28, 1]);
    const model = jpegClassifier(base, 50);
    const x = digits();
    const viaQuery = await model.query!(x);
    const expected = base.logits(await sharpJpeg(x, 50));
    expect(Array.from(viaQuery.dataSync())).toEqual(Array.from(expected.dataSync()));
    expect(model.describe?.()).toMatchObject({ inputTransform: 'jpeg=50' });
    expect(() => jpegTransform(0)).toThrow(/quality from 1 to 100/);
  });
});
