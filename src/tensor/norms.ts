import * as tf from '@tensorflow/tfjs';
import type { Norm, NormName } from '../types.js';
import { l0, patch } from './sparse-norms.js';
import { l1 } from './l1-norm.js';
import { seededNormal } from './random.js';

const PIXEL_AXES = [1, 2, 3];
/** Guards divisions by a zero gradient or a zero perturbation. */
const TINY = 1e-12;

function perExampleL2(t: tf.Tensor4D): tf.Tensor1D {
  return tf.sqrt(tf.sum(tf.square(t), PIXEL_AXES)) as tf.Tensor1D;
}

/** Broadcasts a per-example value over the pixel axes. */
export function perExample(v: tf.Tensor1D): tf.Tensor4D {
  return tf.reshape(v, [-1, 1, 1, 1]) as tf.Tensor4D;
}

/**
 * Uniform noise of x0's shape. With one seed per example, each example's noise depends only on
 * its own seed, so it does not change with the batch the example lands in.
 */
export function uniformNoise(shape: number[], lo: number, hi: number, seed: number | number[]): tf.Tensor {
  if (typeof seed === 'number') return tf.randomUniform(shape, lo, hi, 'float32', seed);
  const row = [1, ...shape.slice(1)];
  return tf.concat(seed.map((s) => tf.randomUniform(row, lo, hi, 'float32', s)));
}

function normalNoise(shape: number[], seed: number | number[]): tf.Tensor {
  if (typeof seed === 'number') return seededNormal(shape, 0, 1, seed);
  const row = [1, ...shape.slice(1)];
  return tf.concat(seed.map((s) => seededNormal(row, 0, 1, s)));
}

/**
 * sign(x) that is ±1 for every non-zero x. tfjs 4.22's wasm Sign kernel returns 0 for
 * |x| < ~1.5e-7, which silently drops the small gradient entries FGSM must move.
 */
export function exactSign(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32')));
}

export const linf: Norm = {
  name: 'linf',
  distance: (a, b) => tf.max(tf.abs(tf.sub(a, b)), PIXEL_AXES) as tf.Tensor1D,
  randomStart: (x0, eps, seed) => tf.add(x0, uniformNoise(x0.shape, -eps, eps, seed)),
  normalize: (g) => exactSign(g) as tf.Tensor4D,
  project: (x, x0, eps) => tf.add(x0, tf.clipByValue(tf.sub(x, x0), -eps, eps)),
};

export const l2: Norm = {
  name: 'l2',
  distance: (a, b) => perExampleL2(tf.sub(a, b) as tf.Tensor4D),
  // Uniform in the ball: Gaussian direction, radius eps·u^(1/d) (Muller 1959).
  randomStart: (x0, eps, seed) => {
    const [n] = x0.shape;
    const d = x0.size / n;
    const dir = normalNoise(x0.shape, seed);
    const unit = tf.div(dir, perExample(tf.add(perExampleL2(dir as tf.Tensor4D), TINY) as tf.Tensor1D));
    const u = tf.reshape(uniformNoise([n, 1], 0, 1, typeof seed === 'number' ? seed + 1 : seed.map((v) => v + 1)), [n]);
    const radius = tf.mul(tf.pow(u, 1 / d), eps) as tf.Tensor1D;
    return tf.add(x0, tf.mul(unit, perExample(radius)));
  },
  normalize: (g) => tf.div(g, perExample(tf.add(perExampleL2(g), TINY) as tf.Tensor1D)),
  project: (x, x0, eps) => {
    const delta: tf.Tensor4D = tf.sub(x, x0);
    const norm = perExampleL2(delta);
    const factor = tf.minimum(1, tf.div(eps, tf.add(norm, TINY))) as tf.Tensor1D;
    return tf.add(x0, tf.mul(delta, perExample(factor)));
  },
};

export const NORMS: Record<NormName, Norm> = { linf, l2, l1, l0, patch };

/** The norms with a steepest-ascent step and a ball to project on: what gradient-loop attacks take. */
export const DENSE_NORMS: readonly NormName[] = ['linf', 'l2'];

export function clipToBox(x: tf.Tensor4D, lower: number, upper: number): tf.Tensor4D {
  return tf.clipByValue(x, lower, upper);
}
