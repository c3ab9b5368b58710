import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { HookContext, TrainingBatch } from '../src/train/loop.js';
import type { Classifier } from '../src/types.js';
import { ascentSteps, checkEps, checkRamp, type AscentTraining, rampedBudget, rampInfo, splitPartners, withPartners } from './adversarial-training.js';
import { projectedAscent } from './ascent.js';
import type { Defense, LossFn, LossTargets } from './defense.js';

/** Per example KL(softmax(p) ‖ softmax(q)) = Σ softmax(p)·(log softmax(p) − log softmax(q)). */
export function klDivergence(p: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tf.softmax(p), tf.sub(tf.logSoftmax(p), tf.logSoftmax(q))), 1) as tf.Tensor1D);
}

/**
 * The TRADES objective — Zhang, Yu, Jiao, Xing, El Ghaoui & Jordan, "Theoretically Principled
 * Trade-off between Robustness and Accuracy", ICML 2019 (arXiv:1901.08573), eq. 5:
 * L(f(x), y) + β·mean KL(f(x) ‖ f(x')). Gradients flow through both f(x) and f(x'), as in the
 * authors' code.
 */
export function tradesLoss(clean: tf.Tensor2D, adv: tf.Tensor2D, t: LossTargets, beta: number, next: LossFn): tf.Scalar {
  return tf.tidy(() => tf.add(next(clean, t), tf.mul(tf.mean(klDivergence(clean, adv)), beta)) as tf.Scalar);
}

export interface TradesOptions extends AscentTraining {
  /** β, the weight of the robustness term (1…6 in the paper; 6 for CIFAR-10). */
  beta?: number;
}

/**
 * TRADES's inner maximisation: x′ starts at x + 0.001·N(0, 1) and takes signed-gradient ascent
 * steps on KL(f(x) ‖ f(x′)) (f(x) fixed), projected onto the L∞ ε-ball and the box. Not a
 * registered attack: it needs no label, and the harness never evaluates with it.
 */
export function tradesExamples(model: Classifier, x: tf.Tensor4D, eps: number, steps: number, stepSize: number, seed: number): tf.Tensor4D {
  const target = tf.tidy(() => model.logits(x));
  try {
    return projectedAscent(model, x, (z) => tf.sum(klDivergence(target, z)) as tf.Scalar, { eps, steps, stepSize, start: 'small-normal', seed });
  } finally {
    target.dispose();
  }
}

export function trades(options: TradesOptions): Defense {
  const { eps } = options;
  checkEps(eps);
  const beta = options.beta ?? 6;
  if (!(beta > 0 && Number.isFinite(beta))) throw new UserError(`trades=${beta}: β must be a positive number (the paper uses 1 to 6)`);
  const { steps, stepSize } = ascentSteps(options, 10, 'TRADES');
  checkRamp(options.ramp);
  return {
    name: `trades=${beta}`,
    stage: 'adversarial',
    batch: (b: TrainingBatch, ctx: HookContext) => {
      const now = rampedBudget(eps, stepSize, options.ramp, ctx.epoch);
      return withPartners(b, tf.tidy(() => tradesExamples(ctx.classifier, b.x, now.eps, steps, now.stepSize, ctx.seed)));
    },
    loss: (logits, t, next, _ctx, batch) => splitPartners(logits, t, batch, (c, a, half) => tradesLoss(c, a, half, beta, next)),
    describe: () => ({ beta, eps, ...rampInfo(options.ramp), steps, stepSize, attack: 'kl-pgd (TRADES)' }),
  };
}
