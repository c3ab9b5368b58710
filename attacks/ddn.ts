import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { crossEntropy } from '../src/tensor/loss.js';
import { clipToBox, l2, perExample } from '../src/tensor/norms.js';
import type { AttackContext, Classifier, Criterion, SyncAttack } from '../src/types.js';
import { keepBetter, pixelNorm } from './margin.js';

/**
 * DDN — Rony, Hafemann, Oliveira, Ben Ayed, Sabourin & Granger, "Decoupling Direction and Norm
 * for Efficient Gradient-Based L2 Adversarial Attacks and Defenses", CVPR 2019
 * (arXiv:1811.09600), Algorithm 1 as in the authors' code (fast_adversarial): a step of size α
 * along the normalised cross-entropy gradient fixes the direction, then the perturbation is
 * rescaled to a norm ε that shrinks by (1 − γ) while the current point is adversarial and grows
 * by (1 + γ) while it is not (capped by the largest norm the box allows), then clipped to the
 * box. α follows a cosine schedule from 1 to 0.01. The smallest adversarial seen is kept.
 * Defaults: 100 steps, γ = 0.05, ε₀ = 1. The authors' in-loop 8-bit rounding is left out: the
 * harness reports 8-bit accuracy separately.
 */
export interface DdnOptions {
  steps?: number;
  gamma?: number;
  initNorm?: number;
}

const TINY = 1e-12;
const ALPHA_MIN = 0.01;

export function ddn(options: DdnOptions = {}): SyncAttack {
  const settings = { steps: options.steps ?? 100, gamma: options.gamma ?? 0.05, initNorm: options.initNorm ?? 1 };
  const { steps, gamma, initNorm } = settings;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`ddn: steps must be a positive integer, got ${steps}`);
  if (!(gamma > 0 && gamma < 1)) throw new UserError(`ddn: gamma must be in (0, 1), got ${gamma}`);
  if (!(initNorm > 0)) throw new UserError(`ddn: initNorm must be positive, got ${initNorm}`);

  return {
    name: 'ddn',
    norm: l2,
    kind: 'iterative',
    minimal: true,
    config: { ...settings, norm: 'l2', stepSchedule: 'cosine 1 → 0.01', minimal: true },
    run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, _eps: number, ctx: AttackContext): tf.Tensor4D {
      const n = x0.shape[0];
      if (n === 0) return tf.clone(x0);
      const { lower, upper } = model.bounds;
      const worst = tf.tidy(() => pixelNorm(tf.maximum(tf.sub(x0, lower), tf.sub(upper, x0)) as tf.Tensor4D, 2).dataSync());
      const radius = new Float32Array(n).fill(initNorm);
      const bestNorm = new Float32Array(n).fill(Infinity);
      let delta = tf.zerosLike(x0);
      let best = tf.clone(x0);
      try {
        for (let i = 0; i < steps; i++) {
          // CosineAnnealingLR(T_max = steps, η_min = 0.01) after its first scheduler.step().
          const alpha = ALPHA_MIN + ((1 - ALPHA_MIN) * (1 + Math.cos((Math.PI * (i + 1)) / steps))) / 2;
          let logits: tf.Tensor2D | undefined;
          const grad = tf.grad((d: tf.Tensor) => {
            const z = model.logits(tf.add(x0, d) as tf.Tensor4D);
            logits = tf.keep(z);
            const ce = crossEntropy(z, criterion.labels);
            return tf.sum(criterion.targeted ? tf.neg(ce) : ce) as tf.Scalar;
          })(delta) as tf.Tensor4D;
          ctx.costs.gradients += n;
          const [predicted, norms] = tf.tidy(() => [tf.argMax(logits!, 1).dataSync(), pixelNorm(delta, 2).dataSync()]);
          const labels = criterion.labels.dataSync();
          const isAdv = new Uint8Array(n);
          const better = new Uint8Array(n);
          for (let j = 0; j < n; j++) {
            isAdv[j] = (criterion.targeted ? predicted![j] === labels[j] : predicted![j] !== labels[j]) ? 1 : 0;
            if (isAdv[j] && norms![j]! < bestNorm[j]!) {
              bestNorm[j] = norms![j]!;
              better[j] = 1;
            }
            radius[j] = Math.min(radius[j]! * (isAdv[j] ? 1 - gamma : 1 + gamma), worst[j]!);
          }
          best = keepBetter(better, x0, delta, best);
          const next = tf.tidy(() => {
            const unit = tf.div(grad, perExample(tf.add(pixelNorm(grad, 2), TINY) as tf.Tensor1D));
            const moved = tf.add(delta, tf.mul(unit, alpha)) as tf.Tensor4D;
            const scaled = tf.mul(moved, perExample(tf.div(tf.tensor1d(radius), tf.add(pixelNorm(moved, 2), TINY)) as tf.Tensor1D));
            return tf.sub(clipToBox(tf.add(x0, scaled) as tf.Tensor4D, lower, upper), x0) as tf.Tensor4D;
          });
          tf.dispose([grad, logits!, delta]);
          delta = next;
        }
      } finally {
        delta.dispose();
      }
      return best;
    },
  };
}
