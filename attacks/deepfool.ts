import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { clipToBox, exactSign, perExample } from '../src/tensor/norms.js';
import type { AttackContext, Classifier, Criterion, NormName, SyncAttack } from '../src/types.js';
import { attackName, resolveNorm } from './options.js';

/**
 * DeepFool — Moosavi-Dezfooli, Fawzi & Frossard, "DeepFool: a simple and accurate method to fool
 * deep neural networks", CVPR 2016 (arXiv:1511.04599), Algorithm 2 (multi-class) and §3.3 (L_p).
 * Each step linearises every class boundary f_k = Z_k − Z_y around the current point and moves to
 * the nearest one: l = argmin_{k≠y} |f_k| / ‖w_k‖_q (w_k = ∇f_k, q = 2 for L2, 1 for L∞), step
 * r = (|f_l| + 1e-4)/‖w_l‖_q · (w_l/‖w_l‖₂ for L2, sign(w_l) for L∞); the image tried is
 * x0 + (1 + overshoot)·Σr, clipped to the box. Untargeted only. On a linear model it finds the
 * nearest boundary in one step. Costs one gradient per class per step.
 * Defaults: 50 steps, overshoot 0.02 (the paper's).
 */
export interface DeepFoolOptions {
  norm?: NormName;
  steps?: number;
  overshoot?: number;
}

/** Keeps the distance finite for a class whose boundary has no gradient. */
const TINY = 1e-12;

export function deepFool(options: DeepFoolOptions = {}): SyncAttack {
  const norm = resolveNorm(options.norm, 'l2');
  const steps = options.steps ?? 50;
  const overshoot = options.overshoot ?? 0.02;
  const name = attackName('deepfool', norm, 'l2');
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`${name}: steps must be a positive integer, got ${steps}`);
  if (!(overshoot >= 0)) throw new UserError(`${name}: overshoot must be ≥ 0, got ${overshoot}`);

  return {
    name,
    norm,
    kind: 'iterative',
    minimal: true,
    config: { norm: norm.name, steps, overshoot, minimal: true },
    run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, _eps: number, ctx: AttackContext): tf.Tensor4D {
      if (criterion.targeted) throw new UserError(`${name} is untargeted: drop --targeted, or use cw-l2, ddn or fmn`);
      const n = x0.shape[0];
      const k = model.numClasses;
      const { lower, upper } = model.bounds;
      let total = tf.zerosLike(x0);
      let x = tf.clone(x0);
      const yOneHot = tf.tidy(() => tf.oneHot(tf.cast(criterion.labels, 'int32'), k) as tf.Tensor2D);
      try {
        for (let step = 0; step < steps; step++) {
          // One backward pass per class: the Jacobian rows ∇Z_j, each [n, h, w, c]. Kept as a list:
          // rank-5 stacks hit a wasm kernel bug (memory access out of bounds).
          let logits: tf.Tensor2D | undefined;
          const jacobian: tf.Tensor4D[] = [];
          for (let j = 0; j < k; j++) {
            jacobian.push(
              tf.grad((input: tf.Tensor) => {
                const z = model.logits(input as tf.Tensor4D);
                if (j === 0) logits = tf.keep(z);
                return tf.sum(tf.slice(z, [0, j], [-1, 1])) as tf.Scalar;
              })(x) as tf.Tensor4D,
            );
          }
          ctx.costs.gradients += n * k;
          const active = tf.tidy(() => tf.equal(tf.argMax(logits!, 1), tf.cast(criterion.labels, 'int32')));
          const anyActive = tf.tidy(() => tf.any(active).dataSync()[0]!);
          if (!anyActive) {
            tf.dispose([...jacobian, logits!, active]);
            break;
          }
          const [nextTotal, nextX] = tf.tidy(() => {
            const z = logits!;
            const f = tf.sub(z, tf.sum(tf.mul(z, yOneHot), 1, true)); // [n, k]
            const column = (t: tf.Tensor2D, j: number) => tf.reshape(tf.slice(t, [0, j], [-1, 1]), [n]) as tf.Tensor1D;
            const gradY = jacobian.reduce((acc, g, j) => tf.add(acc, tf.mul(g, perExample(column(yOneHot, j)))), tf.zerosLike(x0)) as tf.Tensor4D;
            const w = jacobian.map((g) => tf.sub(g, gradY) as tf.Tensor4D);
            const dual = tf.stack(w.map((wj) => (norm.name === 'l2' ? tf.sqrt(tf.sum(tf.square(wj), [1, 2, 3])) : tf.sum(tf.abs(wj), [1, 2, 3]))), 1) as tf.Tensor2D; // [n, k]
            const dist = tf.div(tf.abs(f), tf.add(dual, TINY));
            const l = tf.argMin(tf.add(dist, tf.mul(yOneHot, 1e30)), 1); // [n]
            const pick = tf.oneHot(l, k) as tf.Tensor2D;
            const wl = w.reduce((acc, wj, j) => tf.add(acc, tf.mul(wj, perExample(column(pick, j)))), tf.zerosLike(x0)) as tf.Tensor4D;
            const fl = tf.sum(tf.mul(tf.abs(f), pick), 1) as tf.Tensor1D;
            const dualL = tf.sum(tf.mul(dual, pick), 1) as tf.Tensor1D;
            const size = tf.div(tf.add(fl, 1e-4), tf.add(dualL, TINY)) as tf.Tensor1D;
            const direction =
              norm.name === 'l2' ? tf.div(wl, perExample(tf.add(tf.sqrt(tf.sum(tf.square(wl), [1, 2, 3])), TINY) as tf.Tensor1D)) : (exactSign(wl) as tf.Tensor4D);
            const r = tf.mul(direction, perExample(tf.mul(size, tf.cast(active, 'float32')) as tf.Tensor1D));
            const t = tf.add(total, r) as tf.Tensor4D;
            return [t, clipToBox(tf.add(x0, tf.mul(t, 1 + overshoot)) as tf.Tensor4D, lower, upper)];
          });
          tf.dispose([...jacobian, logits!, active, total, x]);
          total = nextTotal!;
          x = nextX!;
        }
        // Examples never pushed across keep their last point: the harness re-predicts and counts it unbroken.
        return x;
      } finally {
        tf.dispose([total, yOneHot]);
      }
    },
  };
}
