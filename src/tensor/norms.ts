import * as tf from '@tensorflow/tfjs';
import type { Norm, NormName } from '../types.js';

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

export const linf: Norm = {
  name: 'linf',
  distance: (a, b) => tf.max(tf.abs(tf.sub(a, b)), PIXEL_AXES) as tf.Tensor1D,
  randomStart: (x0, eps, seed) => tf.add(x0, tf.randomUniform(x0.shape, -eps, eps, 'float32', seed)),
  normalize: (g) => tf.sign(g),
  project: (x, x0, eps) => tf.add(x0, tf.clipByValue(tf.sub(x, x0), -eps, eps)),
};

export const l2: Norm = {
  name: 'l2',
  distance: (a, b) => perExampleL2(tf.sub(a, b) as tf.Tensor4D),
  // Uniform in the ball: Gaussian direction, radius eps·u^(1/d) (Muller 1959).
  randomStart: (x0, eps, seed) => {
    const [n] = x0.shape;
    const d = x0.size / n;
    const dir = tf.randomNormal(x0.shape, 0, 1, 'float32', seed);
    const unit = tf.div(dir, perExample(tf.add(perExampleL2(dir as tf.Tensor4D), TINY) as tf.Tensor1D));
    const u = tf.randomUniform([n], 0, 1, 'float32', seed + 1);
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

export const NORMS: Record<NormName, Norm> = { linf, l2 };

export function clipToBox(x: tf.Tensor4D, lower: number, upper: number): tf.Tensor4D {
  return tf.clipByValue(x, lower, upper);
}
