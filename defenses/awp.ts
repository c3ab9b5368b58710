import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { parseEps } from '../src/parse.js';
import type { HookContext } from '../src/train/loop.js';
import type { Defense } from './defense.js';
import { optionParts } from './spec.js';

/** The weights AWP perturbs: kernels (rank ≥ 2); biases and other vectors are left alone, as in the authors' code. */
export function perturbedWeights(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable).filter((v) => v.shape.length > 1);
}

function l2(t: tf.Tensor): tf.Scalar {
  return tf.sqrt(tf.sum(tf.square(t))) as tf.Scalar;
}

/**
 * The perturbation of one weight tensor: one ascent step on the loss, rescaled to γ·‖w‖ —
 * v = γ·‖w‖·g/‖g‖ (the authors' diff_in_weights, which rescales the step of an SGD proxy to the
 * layer's weight norm; 1e-20 guards a zero gradient, as theirs does).
 */
export function weightPerturbation(w: tf.Tensor, g: tf.Tensor, gamma: number): tf.Tensor {
  return tf.tidy(() => tf.mul(g, tf.div(tf.mul(l2(w), gamma), tf.add(l2(g), 1e-20))));
}

/** γ and the epochs before AWP starts (the authors' --awp-warmup: 0 in their AT-AWP scripts, 10 in TRADES-AWP). */
export interface AwpOptions {
  gamma?: number;
  warmup?: number;
}

/** Parses awp's value: "0.01" (γ), or key:value pairs "gamma:0.01+warmup:5". */
export function parseAwp(value: string | undefined): AwpOptions {
  if (value === undefined) return {};
  if (!value.includes(':')) return { gamma: parseEps(value, 'awp γ') };
  const out: AwpOptions = {};
  for (const { part, key, value: v } of optionParts(value)) {
    if ((key !== 'gamma' && key !== 'warmup') || !(v >= 0 && Number.isFinite(v)) || (key === 'warmup' && !Number.isInteger(v))) {
      throw new UserError(`awp "${part}": write γ (awp=0.005) or key:value pairs joined by +, with gamma a positive number and warmup a whole number of epochs, e.g. awp=gamma:0.005+warmup:5`);
    }
    out[key] = v;
  }
  return out;
}

/**
 * Adversarial weight perturbation — Wu, Xia & Wang, "Adversarial Weight Perturbation Helps Robust
 * Generalization", NeurIPS 2020 (arXiv:2004.05884): before each step, every kernel w moves by
 * v = γ·‖w‖·∇_w L/‖∇_w L‖ (one ascent step on the same training loss, on the batch the adversarial
 * defense made: PGD-AT's, TRADES's, MART's), the gradient is taken at w + v, and the weights are
 * restored to w before the optimizer's update. γ = 5e-3 (the authors' TRADES-AWP setting; their
 * AT-AWP script uses 1e-2). Composes with any adversarial defense and with ema.
 *
 * `warmup` epochs train without it. From the first step it can kill a fresh network (every ReLU
 * of a layer dead, the output uniform, the loss stuck at ln K): madry-cnn with crop + PGD-AT did,
 * on two seeds; the authors start TRADES-AWP after 10 epochs.
 */
export function adversarialWeightPerturbation(options: AwpOptions = {}): Defense {
  const gamma = options.gamma ?? 5e-3;
  const warmup = options.warmup ?? 0;
  if (!(gamma > 0 && Number.isFinite(gamma))) throw new UserError(`awp=${gamma}: γ must be a positive number (relative to each layer's weight norm), e.g. --defense pgd-at,awp=0.005`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new UserError(`awp warmup ${warmup}: give a whole number of epochs, e.g. --defense pgd-at,awp=gamma:0.005+warmup:5`);
  const spec = [gamma !== 5e-3 ? `gamma:${gamma}` : '', warmup > 0 ? `warmup:${warmup}` : ''].filter((p) => p !== '');
  return {
    // The short form awp=γ when only γ differs, as before warm-up existed.
    name: spec.length === 0 ? 'awp' : warmup === 0 ? `awp=${gamma}` : `awp=${spec.join('+')}`,
    stage: 'update',
    perturbWeights: (ctx: HookContext, loss: () => tf.Scalar) => {
      if (ctx.epoch < warmup) return () => {};
      const targets = perturbedWeights(ctx.model);
      // Copies to restore exactly ((w + v) − v would drift by rounding).
      const originals = targets.map((v) => tf.clone(v));
      tf.tidy(() => {
        const { grads } = tf.variableGrads(loss, targets);
        targets.forEach((v) => v.assign(tf.add(v, weightPerturbation(v, grads[v.name]!, gamma))));
      });
      return () => {
        targets.forEach((v, i) => v.assign(originals[i]!));
        tf.dispose(originals);
      };
    },
    describe: () => ({ gamma, warmupEpochs: warmup, perturbs: 'kernels (rank ≥ 2), one ascent step per training step, restored before the update' }),
  };
}
