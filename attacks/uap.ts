import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { Attack, NormName } from '../src/types.js';
import { resolveNorm } from './options.js';
import { FIT_BATCH, universalAttack } from './universal.js';

/**
 * Universal adversarial perturbation, the SGD variant of Shafahi, Najibi, Xu, Dickerson, Davis &
 * Goldstein, "Universal adversarial training", AAAI 2020 (arXiv:1811.11304), Algorithm 1 without
 * the model update: one δ for all images, ascended on the mean cross-entropy of minibatches of
 * the fit set, δ ← Π_ε(δ + α·normalize(∇_δ)), normalize = sign (L∞) or unit L2, α = ε/10 (after
 * the paper's signed-gradient step), δ₀ = 0. Not Moosavi-Dezfooli et al.'s DeepFool-based
 * algorithm. Departure: the plain cross-entropy (the paper clips it) — at 10 classes no example's
 * loss dominates a minibatch enough to matter here.
 */
export interface UapOptions {
  norm?: NormName;
  /** Passes over the fit set. */
  epochs?: number;
}

export function uap(options: UapOptions = {}): Attack {
  const norm = resolveNorm(options.norm, 'linf');
  const epochs = options.epochs ?? 10;
  if (!Number.isInteger(epochs) || epochs < 1) throw new UserError(`uap: epochs (--steps) must be a positive integer, got ${epochs}`);
  return universalAttack({
    name: norm.name === 'linf' ? 'uap' : `uap-${norm.name}`,
    norm,
    config: { variant: 'SGD on the expected loss (Shafahi et al. 2020)', norm: norm.name, epochs, batchSize: FIT_BATCH, stepSize: '0.1ε', loss: 'ce', fit: 'training split' },
    epochs,
    batchSize: FIT_BATCH,
    init: (shape) => tf.zeros([1, ...shape]),
    apply: (x, delta) => tf.add(x, delta) as tf.Tensor4D,
    step: (delta, grad, eps) => tf.tidy(() => norm.project(tf.add(delta, tf.mul(norm.normalize(grad as tf.Tensor4D), 0.1 * eps)) as tf.Tensor4D, tf.zerosLike(delta) as tf.Tensor4D, eps)),
    placements: () => [],
    evalPlacements: () => [],
    describe: (delta) => ({ kind: 'perturbation', shape: delta.shape.slice(1) as [number, number, number], pixels: Float32Array.from(delta.dataSync()) }),
  });
}
