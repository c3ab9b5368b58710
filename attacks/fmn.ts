import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { clipToBox, perExample } from '../src/tensor/norms.js';
import type { AttackContext, Classifier, Criterion, NormName, SyncAttack } from '../src/types.js';
import { logitMargin, pixelNorm, selectRows } from './margin.js';
import { resolveNorm } from './options.js';

/**
 * FMN — Pintor, Roli, Brendel & Biggio, "Fast Minimum-norm Adversarial Attacks through Adaptive
 * Norm Constraints", NeurIPS 2021 (arXiv:2102.12827), Algorithm 1 as in the authors' adv_lib
 * code. Each step: the norm bound ε shrinks to min(ε(1 − γ), best norm) while the point is
 * adversarial; before any adversarial is found it jumps to ‖δ‖ + |margin|/‖∇margin‖_dual (the
 * linearised distance to the boundary), afterwards it grows by (1 + γ); ε never exceeds the
 * largest norm the box allows. Then δ moves α along the L2-normalised gradient of the logit
 * margin, is projected onto the ε-ball and clipped to the box. One departure: the linearised
 * jump overshoots by (1 + γ) (see the loop). α and γ follow cosine schedules
 * (α: α₀ → α₀/100, γ: 0.05 → 0.001). The smallest adversarial seen is kept.
 * Norms L∞ (dual L1, α₀ = 10) and L2 (dual L2, α₀ = 1). Defaults: 100 steps.
 */
export interface FmnOptions {
  norm?: NormName;
  steps?: number;
  alphaInit?: number;
  gammaInit?: number;
  gammaFinal?: number;
}

const TINY = 1e-12;

export function fmn(options: FmnOptions = {}): SyncAttack {
  const norm = resolveNorm(options.norm, 'linf');
  const name = `fmn-${norm.name}`;
  const settings = {
    norm: norm.name,
    steps: options.steps ?? 100,
    alphaInit: options.alphaInit ?? (norm.name === 'linf' ? 10 : 1),
    gammaInit: options.gammaInit ?? 0.05,
    gammaFinal: options.gammaFinal ?? 0.001,
  };
  const { steps, alphaInit, gammaInit, gammaFinal } = settings;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`${name}: steps must be a positive integer, got ${steps}`);
  if (!(alphaInit > 0)) throw new UserError(`${name}: alphaInit must be positive, got ${alphaInit}`);
  if (!(gammaInit > 0 && gammaInit < 1 && gammaFinal > 0 && gammaFinal <= gammaInit)) throw new UserError(`${name}: need 0 < gammaFinal ≤ gammaInit < 1, got ${gammaFinal} and ${gammaInit}`);
  const alphaFinal = alphaInit / 100;
  const p = norm.name === 'linf' ? ('inf' as const) : (2 as const);
  const dual = norm.name === 'linf' ? (1 as const) : (2 as const);

  return {
    name,
    norm,
    kind: 'iterative',
    minimal: true,
    config: { ...settings, alphaFinal, minimal: true },
    run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, _eps: number, ctx: AttackContext): tf.Tensor4D {
      const n = x0.shape[0];
      if (n === 0) return tf.clone(x0);
      const { lower, upper } = model.bounds;
      const worst = tf.tidy(() => pixelNorm(tf.maximum(tf.sub(x0, lower), tf.sub(upper, x0)) as tf.Tensor4D, p).dataSync());
      const epsilon = new Float32Array(n).fill(Infinity);
      const bestNorm = new Float32Array(n).fill(Infinity);
      const found = new Uint8Array(n);
      let delta = tf.zerosLike(x0);
      let best = tf.clone(x0);
      try {
        for (let i = 0; i < steps; i++) {
          const cosine = (1 + Math.cos((Math.PI * i) / steps)) / 2;
          const alpha = alphaFinal + (alphaInit - alphaFinal) * cosine;
          const gamma = gammaFinal + (gammaInit - gammaFinal) * cosine;
          let margin: tf.Tensor1D | undefined;
          // The gradient of −margin: ascending it pushes toward the boundary.
          const grad = tf.grad((d: tf.Tensor) => {
            const m = logitMargin(model.logits(tf.add(x0, d) as tf.Tensor4D), criterion.labels, criterion.targeted);
            margin = tf.keep(m);
            return tf.neg(tf.sum(m)) as tf.Scalar;
          })(delta) as tf.Tensor4D;
          ctx.costs.gradients += n;
          const [marginData, norms, dualNorms] = tf.tidy(() => [margin!.dataSync(), pixelNorm(delta, p).dataSync(), pixelNorm(grad, dual).dataSync()]);
          const better = new Uint8Array(n);
          for (let j = 0; j < n; j++) {
            const isAdv = marginData![j]! < 0;
            const size = norms![j]!;
            if (isAdv && size < bestNorm[j]!) {
              bestNorm[j] = size;
              better[j] = 1;
            }
            if (isAdv) {
              found[j] = 1;
              epsilon[j] = Math.min(epsilon[j]! * (1 - gamma), bestNorm[j]!);
            } else if (found[j]) {
              epsilon[j] = epsilon[j]! * (1 + gamma);
            } else {
              // The reference jumps exactly to the linearised boundary; on a (locally) linear model
              // the point then lands on it and stays there, never strictly across. Overshooting by
              // (1 + γ) crosses it; once across, ε shrinks by (1 − γ) as in the reference.
              epsilon[j] = (size + Math.abs(marginData![j]!) / Math.max(dualNorms![j]!, TINY)) * (1 + gamma);
            }
            epsilon[j] = Math.min(epsilon[j]!, worst[j]!);
          }
          if (better.some((b) => b === 1)) {
            const next = tf.tidy(() => selectRows(tf.tensor1d(better, 'int32'), tf.add(x0, delta) as tf.Tensor4D, best));
            best.dispose();
            best = next;
          }
          const next = tf.tidy(() => {
            const unit = tf.div(grad, perExample(tf.add(pixelNorm(grad, 2), TINY) as tf.Tensor1D));
            const moved = tf.add(delta, tf.mul(unit, alpha)) as tf.Tensor4D;
            const eps = perExample(tf.tensor1d(epsilon));
            const projected =
              norm.name === 'linf'
                ? tf.minimum(tf.maximum(moved, tf.neg(eps)), eps)
                : tf.mul(moved, tf.minimum(1, tf.div(eps, tf.add(perExample(pixelNorm(moved, 2)), TINY))));
            return tf.sub(clipToBox(tf.add(x0, projected) as tf.Tensor4D, lower, upper), x0) as tf.Tensor4D;
          });
          tf.dispose([grad, margin!, delta]);
          delta = next;
        }
      } finally {
        delta.dispose();
      }
      return best;
    },
  };
}
