import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { clipToBox, l2 } from '../src/tensor/norms.js';
import { seededNormal } from '../src/tensor/random.js';
import type { Classifier } from '../src/types.js';
import type { Defense } from './defense.js';
import { checkSigma } from './gaussian.js';
import { optionParts } from './spec.js';

export interface SmoothAdvOptions {
  /** σ of the smoothing noise (the σ the model will be certified with). */
  sigma: number;
  /** L2 radius of the attack on the smoothed classifier. */
  eps: number;
  /** PGD steps (step size 2ε/steps, as in Salman et al.'s PGD_L2). */
  steps: number;
  /** Noise samples per example, shared by the attack and the training loss. */
  m: number;
}

export const SMOOTH_ADV_DEFAULTS: SmoothAdvOptions = { sigma: 0.25, eps: 0.5, steps: 1, m: 1 };

/** Rows i·m … i·m + m − 1 are copies of example i. */
function repeatRows<T extends tf.Tensor>(t: T, m: number): T {
  return tf.tidy(() => {
    const [n, ...rest] = t.shape;
    const size = rest.reduce((a, b) => a * b, 1);
    // Through rank 3: tfjs has no gradient for a tile of rank 5.
    const tiled = tf.tile(tf.reshape(t, [n!, 1, size]), [1, m, 1]);
    return tf.reshape(tiled, [n! * m, ...rest]) as T;
  });
}

/**
 * SmoothAdv's attack — Salman, Yang, Li, Zhang, Zhang, Razenshteyn & Bubeck, "Provably Robust Deep
 * Learning via Adversarially Trained Smoothed Classifiers", NeurIPS 2019 (arXiv:1906.04584), eq. 7
 * and Algorithm 1 (SmoothAdv_PGD): L2 PGD from x on −log((1/m)·Σᵢ softmax(f(x′ + δᵢ))_y), the
 * cross-entropy of the soft smoothed classifier estimated with m fixed Gaussian draws δᵢ, with
 * normalised-gradient steps of 2ε/steps, each projected onto the ε-ball and the box. Returns x′ and
 * the noise it was computed with (row i·m + j is draw j of example i).
 */
export function smoothAdvExamples(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, o: SmoothAdvOptions, seed: number): { adv: tf.Tensor4D; noise: tf.Tensor4D } {
  const [n, h, w, c] = x.shape;
  const k = model.numClasses;
  const { lower, upper } = model.bounds;
  const noise = seededNormal([n * o.m, h, w, c], 0, o.sigma, seed) as tf.Tensor4D;
  const stepSize = (2 * o.eps) / o.steps;
  const objective = (input: tf.Tensor) => {
    const z = model.logits(tf.add(repeatRows(input as tf.Tensor4D, o.m), noise) as tf.Tensor4D);
    const soft = tf.mean(tf.reshape(tf.softmax(z), [n, o.m, k]), 1);
    const py = tf.sum(tf.mul(soft, tf.oneHot(tf.cast(y, 'int32'), k)), 1);
    return tf.neg(tf.sum(tf.log(tf.add(py, 1e-20)))) as tf.Scalar;
  };
  let adv = tf.clone(x);
  try {
    for (let s = 0; s < o.steps; s++) {
      const next = tf.tidy(() => {
        const moved = tf.add(adv, tf.mul(l2.normalize(tf.grad(objective)(adv) as tf.Tensor4D), stepSize)) as tf.Tensor4D;
        return clipToBox(l2.project(moved, x, o.eps), lower, upper);
      });
      adv.dispose();
      adv = next;
    }
  } catch (err) {
    tf.dispose([adv, noise]);
    throw err;
  }
  return { adv, noise };
}

/** "sigma:0.25+eps:0.5+steps:2+m:4" (any subset, any order) or a bare σ ("0.25"). */
export function parseSmoothAdv(value: string | undefined): SmoothAdvOptions {
  const out = { ...SMOOTH_ADV_DEFAULTS };
  if (value === undefined) return out;
  if (/^[0-9.]+$/.test(value.trim())) {
    out.sigma = Number(value);
    checkSigma(out.sigma, `smooth-adv=${value}`);
    return out;
  }
  for (const { part, key, value: v } of optionParts(value)) {
    if (!(key in out) || !(v > 0 && Number.isFinite(v)) || ((key === 'steps' || key === 'm') && !Number.isInteger(v))) {
      throw new UserError(`smooth-adv "${part}": write key:value pairs joined by +, with sigma, eps (L2) positive numbers and steps, m positive integers, e.g. smooth-adv=sigma:0.25+eps:0.5+steps:2+m:4`);
    }
    out[key as keyof SmoothAdvOptions] = v;
  }
  return out;
}

/**
 * SmoothAdv training (Salman et al. 2019): the base classifier is trained, with cross-entropy, on
 * the m noisy copies x′ + δᵢ of SmoothAdv's adversarial example — the same δᵢ the attack used
 * (their "multi-noise" training). Pixels of x′ stay in the box; the noise is not clipped.
 */
export function smoothAdvTraining(options: SmoothAdvOptions): Defense {
  const o = options;
  checkSigma(o.sigma, `smooth-adv=sigma:${o.sigma}`);
  const d = SMOOTH_ADV_DEFAULTS;
  const spec = (['sigma', 'eps', 'steps', 'm'] as const).filter((key) => o[key] !== d[key]).map((key) => `${key}:${o[key]}`).join('+');
  return {
    name: spec === '' ? 'smooth-adv' : `smooth-adv=${spec}`,
    stage: 'adversarial',
    batch: (b, ctx) =>
      tf.tidy(() => {
        const { adv, noise } = smoothAdvExamples(ctx.classifier, b.x, b.y, o, ctx.seed * 31 + 11);
        return {
          x: tf.add(repeatRows(adv, o.m), noise) as tf.Tensor4D,
          y: repeatRows(b.y, o.m),
          ...(b.targets ? { targets: repeatRows(b.targets, o.m) } : {}),
        };
      }),
    describe: () => ({ ...o, stepSize: (2 * o.eps) / o.steps, norm: 'l2', paper: 'Salman et al. 2019 (arXiv:1906.04584)' }),
  };
}
