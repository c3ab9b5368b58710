// Conv2DBackpropInput with a 1×1 filter (no spatial flip needed, issue 21) against the cpu
// backend, tolerance 1e-4 relative (cpu-reference.ts): stride 1 and 2, 'same' and 'valid'.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { expectSameOnBoth, randomArray, size } from './cpu-reference.js';

beforeAll(async () => {
  await initBackend('wasm', { threads: 1 });
});

describe('1×1 conv input gradient', () => {
  for (const [strides, pad] of [
    [1, 'valid'],
    [2, 'same'],
    [2, 'valid'],
  ] as const) {
    it(`strides ${strides}, ${pad}`, async () => {
      const xShape: [number, number, number, number] = [2, 7, 6, 24];
      const wShape: [number, number, number, number] = [1, 1, 24, 16];
      const xv = randomArray(size(xShape));
      const wv = randomArray(size(wShape));
      const yShape = tf.tidy(() => tf.conv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, strides, pad).shape);
      const dyv = randomArray(size(yShape));
      await expectSameOnBoth(`1x1 conv grad s${strides} ${pad}`, () => {
        const x = tf.tensor4d(xv, xShape);
        const w = tf.tensor4d(wv, wShape);
        // dy = dyv: a weighted sum, so that dy is not all ones.
        return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, w, strides, pad), tf.tensor4d(dyv, yShape))))(x);
      });
    });
  }
});
