import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tidyInts, tidyValue, tidyValues } from '../../src/tensor/read.js';
import { useTestBackend } from '../helpers/backend.js';

describe('tidy reads', () => {
  beforeAll(useTestBackend);

  it('reads what the scope returns, as typed arrays, and leaves no tensor behind (intermediates and results)', () => {
    const x = tf.tensor2d([1, -2, 3, -4], [2, 2]);
    const before = tf.memory().numTensors;
    const [abs, sum] = tidyValues(() => {
      const a = tf.abs(x);
      return [a, tf.sum(a, 1)];
    });
    expect(Array.from(abs)).toEqual([1, 2, 3, 4]);
    expect(Array.from(sum)).toEqual([3, 7]);
    expect(Array.from(tidyValue(() => tf.neg(x)))).toEqual([-1, 2, -3, 4]);
    const ints = tidyInts(() => tf.argMax(x, 1));
    expect(ints).toBeInstanceOf(Int32Array);
    expect(Array.from(ints)).toEqual([0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('leaves alone a tensor returned from outside the scope, and refuses a dtype the type would misname', () => {
    const outside = tf.tensor1d([1.5, 2.5]);
    expect(Array.from(tidyValue(() => outside))).toEqual([1.5, 2.5]);
    expect(outside.isDisposed).toBe(false);
    const before = tf.memory().numTensors;
    expect(() => tidyInts(() => outside)).toThrow('expected an int32 tensor, got float32');
    expect(() => tidyValue(() => tf.argMax(outside))).toThrow('expected a float32 tensor, got int32');
    expect(tf.memory().numTensors).toBe(before);
    outside.dispose();
  });

  it('disposes the scope even when f throws', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      tidyValue(() => {
        tf.ones([3]);
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(tf.memory().numTensors).toBe(before);
  });
});
