import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { seededNormal } from '../src/tensor/random.js';
import type { Defense } from './defense.js';

export function checkSigma(sigma: number, what: string): void {
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new UserError(`${what}: σ ${sigma} must be a positive number, e.g. ${what.split('=')[0]}=0.25`);
}

/**
 * x + N(0, σ²) with no clipping to the input box: the base classifier of randomized smoothing must
 * learn the very distribution CERTIFY samples, and CERTIFY does not clip its noisy copies
 * (Cohen, Rosenfeld & Kolter 2019, arXiv:1902.02918, §4 and their train.py).
 */
export function addGaussianNoise(x: tf.Tensor4D, sigma: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(x, seededNormal(x.shape, 0, sigma, seed)) as tf.Tensor4D);
}

/**
 * Gaussian data augmentation for randomized smoothing — Cohen et al. 2019: every training image is
 * replaced by one noisy copy at the σ the model will be certified with. Unlike augment=noise, the
 * noisy image is not clipped to [0, 1].
 */
export function gaussianAugmentation(sigma: number): Defense {
  checkSigma(sigma, `gaussian=${sigma}`);
  return {
    name: `gaussian=${sigma}`,
    stage: 'augment',
    batch: (b, ctx) => ({ ...b, x: addGaussianNoise(b.x, sigma, ctx.seed * 31 + 7) }),
    describe: () => ({ sigma, clipped: false, paper: 'Cohen, Rosenfeld & Kolter 2019 (arXiv:1902.02918)' }),
  };
}
