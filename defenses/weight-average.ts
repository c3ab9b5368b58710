import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { NamedTensor } from '../src/train/checkpoint.js';
import type { HookContext } from '../src/train/loop.js';
import type { Defense } from './defense.js';

/** Names of the average's tensors in a checkpoint's hook state. */
const PREFIX = 'ema:';

/**
 * The decay at global step t: min(τ, (1 + t)/(10 + t)). Early on the average follows the weights
 * closely (0.1 at t = 0, 0.5 at t = 8) instead of dragging the random initialisation along for
 * ~1/(1 − τ) steps: TensorFlow's ExponentialMovingAverage with num_updates, which the
 * adversarial-robustness code of Gowal et al. 2020 / Rebuffi et al. 2021 (deepmind-research,
 * adversarial_robustness, ema_update with dynamic_decay) uses.
 */
export function emaDecay(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

/**
 * Weight averaging: an exponential moving average of all the model's weights (trainable and
 * not), updated after every optimizer step; the held-out monitor evaluates the average, and the
 * model ends training holding the average (that is what is saved). τ = 0.999, the decay Rebuffi
 * et al. 2021 ("Data augmentation can improve robustness", arXiv:2111.05328) train with; Gowal et
 * al. 2020 (arXiv:2010.03593) found weight averaging to improve robustness. The first step's weights
 * start the average; the checkpoint keeps it beside the trained weights, so a resumed run goes on
 * exactly.
 */
export function weightAverage(options: { decay?: number } = {}): Defense {
  const decay = options.decay ?? 0.999;
  if (!(decay > 0 && decay < 1)) throw new UserError(`ema=${decay}: the decay τ must be in (0, 1), e.g. --defense ema=0.999`);
  let average: tf.Variable[] | undefined;
  const release = (): void => {
    tf.dispose(average);
    average = undefined;
  };
  return {
    name: decay === 0.999 ? 'ema' : `ema=${decay}`,
    // Touches weights only (after the update), like max-norm.
    stage: 'update',
    afterStep: (ctx: HookContext) => {
      const weights = ctx.model.getWeights();
      if (!average) {
        average = weights.map((w) => tf.variable(tf.clone(w), false));
        return;
      }
      const d = emaDecay(decay, ctx.step);
      average.forEach((a, i) => a.assign(tf.add(tf.mul(a, d), tf.mul(weights[i]!, 1 - d))));
    },
    withEvaluationWeights: async (model, fn) => {
      if (!average) return fn();
      const trained = model.getWeights().map((w) => tf.clone(w));
      model.setWeights(average);
      try {
        return await fn();
      } finally {
        model.setWeights(trained);
        tf.dispose(trained);
      }
    },
    finish: (model) => {
      if (average) model.setWeights(average);
    },
    state: (): NamedTensor[] => (average ?? []).map((tensor, i) => ({ name: `${PREFIX}${i}`, tensor })),
    restoreState: (saved) => {
      release();
      const mine = saved.filter((n) => n.name.startsWith(PREFIX));
      if (mine.length > 0) average = mine.map((n) => tf.variable(tf.clone(n.tensor), false));
    },
    dispose: release,
    describe: () => ({ decay, warmup: 'min(τ, (1 + step)/(10 + step))', averages: 'all weights, updated after every step; the saved model is the average' }),
  };
}
