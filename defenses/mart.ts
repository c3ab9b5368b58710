import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { crossEntropy } from '../src/tensor/loss.js';
import type { HookContext, TrainingBatch } from '../src/train/loop.js';
import { ascentSteps, checkEps, checkRamp, type AscentTraining, rampedBudget, rampInfo, splitPartners, withPartners } from './adversarial-training.js';
import { projectedAscent } from './ascent.js';
import type { Defense, LossFn, LossTargets } from './defense.js';
import { klDivergence } from './trades.js';

/**
 * The MART objective — Wang, Zou, Yi, Bailey, Ma & Gu, "Improving Adversarial Robustness Requires
 * Revisiting Misclassified Examples", ICLR 2020, eq. 7, as the authors' code (YisenWang/MART,
 * mart.py) computes it:
 *
 *   BCE(f(x′), y) + λ · mean[ KL(f(x) ‖ f(x′)) · (1 − p_y(x)) ]
 *   BCE(f(x′), y) = CE(f(x′), y) − log(1.0001 − max_{k≠y} p_k(x′))
 *
 * The boosted CE adds a margin term that pushes down the strongest wrong class; the KL term is
 * weighted up on examples the model misclassifies clean (small p_y(x)). Gradients flow through
 * f(x), f(x′) and the weight 1 − p_y(x), as in the authors' code. The constants 1.0001 (and
 * 1.0000001 in the weight) are theirs: they keep the log finite when max p_k(x′) → 1.
 * `next` is the rest of the loss chain (CE against the targets by default, so label smoothing
 * composes); the margin term and p_y use the labels.
 */
export function martLoss(clean: tf.Tensor2D, adv: tf.Tensor2D, t: LossTargets, lambda: number, next: LossFn): tf.Scalar {
  return tf.tidy(() => {
    const classes = adv.shape[1];
    const onehot = tf.oneHot(tf.cast(t.y, 'int32'), classes);
    const advProbs = tf.softmax(adv);
    // Probabilities are ≥ 0, so zeroing the true class leaves the largest wrong one as the max.
    const wrongMax = tf.max(tf.mul(advProbs, tf.sub(1, onehot)), 1);
    const margin = tf.mean(tf.neg(tf.log(tf.add(tf.sub(1.0001, wrongMax), 1e-12))));
    const bce = tf.add(next(adv, t), margin);
    const trueProb = tf.sum(tf.mul(tf.softmax(clean), onehot), 1);
    const robust = tf.mean(tf.mul(klDivergence(clean, adv), tf.sub(1.0000001, trueProb)));
    return tf.add(bce, tf.mul(robust, lambda)) as tf.Scalar;
  });
}

export interface MartOptions extends AscentTraining {
  /** λ, the weight of the misclassification-aware KL term (6 in the authors' CIFAR-10 runs). */
  lambda?: number;
}

/**
 * MART training: x′ from PGD on the cross-entropy, started at x + 0.001·N(0, 1) as in the authors'
 * code, last iterate; then the MART loss on [x; x′]. λ = 6 is the default of the authors'
 * train_wideresnet.py (the paper reports λ = 5 or 6 on CIFAR-10 as best; MNIST is not tuned there).
 */
export function mart(options: MartOptions): Defense {
  const { eps } = options;
  checkEps(eps);
  const lambda = options.lambda ?? 6;
  if (!(lambda > 0 && Number.isFinite(lambda))) throw new UserError(`mart=${lambda}: λ must be a positive number (the paper uses 5 or 6), e.g. --defense mart=6`);
  // 10 PGD steps, as in the paper for CIFAR-10.
  const { steps, stepSize } = ascentSteps(options, 10, 'MART', ': e.g. --train-steps 10');
  checkRamp(options.ramp);
  return {
    name: `mart=${lambda}`,
    stage: 'adversarial',
    batch: (b: TrainingBatch, ctx: HookContext) => {
      const now = rampedBudget(eps, stepSize, options.ramp, ctx.epoch);
      return withPartners(b, tf.tidy(() => projectedAscent(ctx.classifier, b.x, (z) => tf.sum(crossEntropy(z, b.y)) as tf.Scalar, { ...now, steps, start: 'small-normal', seed: ctx.seed })));
    },
    loss: (logits, t, next, _ctx, batch) => splitPartners(logits, t, batch, (c, a, half) => martLoss(c, a, half, lambda, next)),
    describe: () => ({ lambda, eps, ...rampInfo(options.ramp), steps, stepSize, attack: 'pgd-ce (MART, last iterate)' }),
  };
}
