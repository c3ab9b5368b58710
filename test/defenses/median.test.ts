import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { medianFilter, medianSmoothing, sortingNetwork } from '../../defenses/median.js';
import { useTestBackend } from '../helpers/backend.js';

const grid = (t: tf.Tensor) => (t.arraySync() as number[][][][])[0]!.map((r) => r.map((p) => p[0]!));

describe('median smoothing', () => {
  beforeAll(useTestBackend);

  it('sorts elementwise with its network', () => {
    const sorted = sortingNetwork([5, 1, 4, 2, 3].map((v) => tf.scalar(v))).map((t) => t.dataSync()[0]);
    expect(sorted).toEqual([1, 2, 3, 4, 5]);
  });

  it('3×3 on a hand-made image: an isolated spike disappears, edges are mirrored as scipy.ndimage does', () => {
    const x = tf.tensor4d([0, 0, 0, 0, 9, 0, 0, 0, 0], [1, 3, 3, 1]);
    expect(grid(medianFilter(x, 3))).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    // scipy.ndimage.median_filter([[1,2,3],[4,5,6],[7,8,9]], size=3, mode='reflect'):
    const y = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    expect(grid(medianFilter(y, 3))).toEqual([[2, 3, 3], [4, 5, 6], [7, 7, 8]]);
  });

  it('2×2 takes the upper median of the window reaching up and left (scipy, size = 2)', () => {
    const y = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    // Values from scipy.ndimage.median_filter(…, size=2, mode='reflect').
    expect(grid(medianFilter(y, 2))).toEqual([[1, 2, 3], [4, 4, 5], [7, 7, 8]]);
    const z = tf.tensor4d([1, 9, 2, 8], [1, 2, 2, 1]);
    expect(grid(medianFilter(z, 2))).toEqual([[1, 9], [2, 8]]);
  });

  it('filters each channel on its own and has a gradient (min/max routing)', () => {
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    // Channel 0 is [[1, 2], [3, 4]], scipy's 2×2 median of which is [[1, 2], [3, 3]].
    const out = medianFilter(x, 2).arraySync()[0]!;
    expect(out[1]![1]).toEqual([3, 30]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(medianFilter(t as tf.Tensor4D, 3)))(x);
    expect(tf.sum(g).dataSync()[0]).toBeCloseTo(8, 5);
    expect(() => medianSmoothing(1)).toThrow(/window side/);
  });
});
