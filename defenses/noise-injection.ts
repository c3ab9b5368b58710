import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { seededNormal } from '../src/tensor/random.js';
import type { InputTransform } from '../src/model/input-transform.js';

/**
 * Gaussian noise injection (a randomised defense): x ← x + N(0, σ²). Each call draws new noise from
 * a seeded sequence, so a run is reproducible; attack it with EOT.
 */
export function gaussianNoise(sigma: number, seed = 0): InputTransform {
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new UserError(`noise ${sigma}: give a positive standard deviation, e.g. noise=0.1`);
  let calls = 0;
  return {
    name: `noise=${sigma}`,
    randomized: true,
    apply: (x) => tf.tidy(() => tf.add(x, seededNormal(x.shape, 0, sigma, seed * 7919 + calls++)) as tf.Tensor4D),
  };
}
