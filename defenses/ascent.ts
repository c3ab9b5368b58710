import * as tf from '@tensorflow/tfjs';
import { clipToBox, exactSign, linf, uniformNoise } from '../src/tensor/norms.js';
import { seededNormal } from '../src/tensor/random.js';
import type { Classifier } from '../src/types.js';

export interface AscentOptions {
  eps: number;
  steps: number;
  /** Absolute step size. */
  stepSize: number;
  /** uniform: U(−ε, ε) (Madry et al.); small-normal: 0.001·N(0, 1) (TRADES). */
  start: 'uniform' | 'small-normal';
  seed: number;
}

/**
 * The inner maximisation of adversarial training: L∞ signed-gradient ascent on `objective`
 * (summed over the batch, so each example follows its own gradient), projected onto the ε-ball
 * and the box after every step, returning the last iterate — as Madry et al. and Zhang et al. do.
 * (The registry's attacks return each example's first successful iterate instead, which is
 * right for evaluation but stops pushing examples that are already misclassified.)
 */
export function projectedAscent(model: Classifier, x: tf.Tensor4D, objective: (logits: tf.Tensor2D) => tf.Scalar, o: AscentOptions): tf.Tensor4D {
  const { lower, upper } = model.bounds;
  let adv = tf.tidy(() => {
    const noise = o.start === 'uniform' ? uniformNoise(x.shape, -o.eps, o.eps, o.seed) : tf.mul(seededNormal(x.shape, 0, 1, o.seed), 0.001);
    return clipToBox(linf.project(tf.add(x, noise) as tf.Tensor4D, x, o.eps), lower, upper);
  });
  const f = (input: tf.Tensor) => objective(model.logits(input as tf.Tensor4D));
  for (let s = 0; s < o.steps; s++) {
    const next = tf.tidy(() => {
      const moved = tf.add(adv, tf.mul(exactSign(tf.grad(f)(adv)), o.stepSize)) as tf.Tensor4D;
      return clipToBox(linf.project(moved, x, o.eps), lower, upper);
    });
    adv.dispose();
    adv = next;
  }
  return adv;
}
