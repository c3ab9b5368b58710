import * as tf from '@tensorflow/tfjs';
import { fgsm } from '../attacks/fgsm.js';
import { gradientDescentAttack } from '../attacks/gradient-descent.js';
import { UserError } from '../src/errors.js';
import { runAttack } from '../attacks/run-attack.js';
import { crossEntropy } from '../src/tensor/loss.js';
import { linf } from '../src/tensor/norms.js';
import type { HookContext, TrainingBatch } from '../src/train/loop.js';
import type { Attack } from '../src/types.js';
import { projectedAscent } from './ascent.js';
import { targetRows, type Defense, type LossFn, type LossTargets } from './defense.js';

/** The budget and the attack adversarial training makes its examples with. */
export interface TrainingAttack {
  eps: number;
  attack: Attack;
  /** Epochs over which ε grows to its full value (see epsAtEpoch); absent: full ε from the start. */
  ramp?: number;
}

/**
 * The training ε in epoch `epoch` (0-based): with a ramp of R epochs it grows linearly,
 * ε·(epoch + 1)/R, and is ε from epoch R − 1 on. A network that is not yet accurate learns little
 * from examples at the full budget (our PGD-AT runs at ε = 0.3 start near chance); the warm-up of
 * Gowal et al. 2018 (arXiv:1810.12715, §4) lets it learn the task first.
 */
export function epsAtEpoch(eps: number, ramp: number | undefined, epoch: number): number {
  return ramp === undefined ? eps : eps * Math.min(1, (epoch + 1) / ramp);
}

/**
 * ε and an absolute step at epoch `epoch` under a ramp: the step shrinks with ε, so that the
 * inner steps still cross the ball as many times as at full ε.
 */
export function rampedBudget(eps: number, stepSize: number, ramp: number | undefined, epoch: number): { eps: number; stepSize: number } {
  const now = epsAtEpoch(eps, ramp, epoch);
  return { eps: now, stepSize: (stepSize * now) / eps };
}

/** The ramp as recorded in a defense's metadata (nothing without one). */
export function rampInfo(ramp: number | undefined): Record<string, number> {
  return ramp === undefined ? {} : { epsRampEpochs: ramp };
}

export function checkRamp(ramp: number | undefined): void {
  if (ramp !== undefined && !(Number.isInteger(ramp) && ramp >= 1)) {
    throw new UserError(`training ε ramp ${ramp} must be a whole number of epochs ≥ 1, e.g. --train-eps-ramp 5`);
  }
}

export function checkEps(eps: number): void {
  if (!(eps > 0 && Number.isFinite(eps))) throw new UserError(`training ε ${eps} must be a positive number, e.g. --train-eps 0.1`);
}

/** The inner maximisation of pgd-at, TRADES and MART: its budget, ramp, steps and step size. */
export interface AscentTraining extends Omit<TrainingAttack, 'attack'> {
  steps?: number;
  /** Absolute step size; default 2.5·ε/steps. */
  stepSize?: number;
}

/** The steps (default `defaultSteps`; `name` and `fix` word the error) and the step size (default 2.5·ε/steps). */
export function ascentSteps(o: AscentTraining, defaultSteps: number, name: string, fix = ''): { steps: number; stepSize: number } {
  const steps = o.steps ?? defaultSteps;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`${name} takes a positive number of steps, got ${steps}${fix}`);
  return { steps, stepSize: o.stepSize ?? (2.5 * o.eps) / steps };
}

/**
 * Adversarial examples of the batch against the model as it is now, in inference mode, through
 * runAttack (projected onto the ε-ball and the box, and verified). Runs in the batch hook, before
 * the loop opens the gradient tape, so the examples are constants of the training loss.
 */
export async function adversarialExamples(ctx: HookContext, b: TrainingBatch, t: TrainingAttack): Promise<tf.Tensor4D> {
  const { adv } = await runAttack(ctx.classifier, t.attack, b.x, { labels: b.y, targeted: false }, epsAtEpoch(t.eps, t.ramp, ctx.epoch), ctx.seed);
  return adv;
}

/**
 * [clean; adversarial] rows with labels and targets repeated: the batch of a mixed loss (fgsm-at,
 * TRADES, MART). Takes `adv` over: it is disposed.
 */
export function withPartners(b: TrainingBatch, adv: tf.Tensor4D): TrainingBatch {
  try {
    return tf.tidy(() => ({
      x: tf.concat([b.x, adv]),
      y: tf.concat([b.y, b.y]),
      ...(b.targets ? { targets: tf.concat([b.targets, b.targets]) } : {}),
      clean: b.x.shape[0],
    }));
  } finally {
    adv.dispose();
  }
}

/** α·L(clean rows) + (1 − α)·L(adversarial rows), L being the rest of the loss chain. */
export function mixedLoss(clean: tf.Tensor2D, adv: tf.Tensor2D, t: LossTargets, alpha: number, next: LossFn): tf.Scalar {
  return tf.tidy(() => tf.add(tf.mul(next(clean, t), alpha), tf.mul(next(adv, t), 1 - alpha)) as tf.Scalar);
}

/** Splits logits and targets of a [clean; partners] batch and applies f to the halves. */
export function splitPartners(logits: tf.Tensor2D, t: LossTargets, batch: TrainingBatch, f: (clean: tf.Tensor2D, adv: tf.Tensor2D, t: LossTargets) => tf.Scalar): tf.Scalar {
  const n = batch.clean;
  if (n === undefined || logits.shape[0] !== 2 * n) throw new Error(`expected a batch of ${n ?? '?'} examples and as many adversarial partners, got ${logits.shape[0]} rows`);
  return tf.tidy(() => f(tf.slice(logits, [0, 0], [n, -1]), tf.slice(logits, [n, 0], [n, -1]), targetRows(t, 0, n)));
}

/**
 * FGSM adversarial training — Goodfellow, Shlens & Szegedy, ICLR 2015 (arXiv:1412.6572), §5:
 * loss = α·L(x) + (1 − α)·L(x_adv) with α = 0.5 and x_adv from FGSM (or the given attack).
 */
export function fgsmAdversarialTraining(options: Partial<TrainingAttack> & { eps: number; alpha?: number }): Defense {
  checkEps(options.eps);
  checkRamp(options.ramp);
  const alpha = options.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new UserError(`fgsm-at=${alpha}: the weight α of the clean loss must be in [0, 1]`);
  const t: TrainingAttack = { eps: options.eps, attack: options.attack ?? fgsm(), ramp: options.ramp };
  return {
    name: alpha === 0.5 ? 'fgsm-at' : `fgsm-at=${alpha}`,
    stage: 'adversarial',
    batch: async (b, ctx) => withPartners(b, await adversarialExamples(ctx, b, t)),
    loss: (logits, targets, next, _ctx, batch) => splitPartners(logits, targets, batch, (c, a, half) => mixedLoss(c, a, half, alpha, next)),
    describe: () => ({ alpha, eps: t.eps, ...rampInfo(t.ramp), attack: t.attack.name, attackConfig: t.attack.config }),
  };
}

/** How a replacing defense makes its examples. */
type ExampleMaker = (ctx: HookContext, b: TrainingBatch) => tf.Tensor4D | Promise<tf.Tensor4D>;

/** Training on the adversarial examples alone (the batch's images are replaced). */
function replacing(name: string, eps: number, ramp: number | undefined, make: ExampleMaker, describe: Record<string, unknown>): Defense {
  checkEps(eps);
  checkRamp(ramp);
  return {
    name,
    stage: 'adversarial',
    batch: async (b, ctx) => ({ ...b, x: await make(ctx, b) }),
    describe: () => ({ eps, ...rampInfo(ramp), ...describe }),
  };
}

/**
 * "Fast is better than free" — Wong, Rice & Kolter, ICLR 2020 (arXiv:2001.03994): FGSM from a
 * uniform random start in the ε-ball with step α = 1.25·ε, projected back onto the ball, and the
 * model trained on those examples only. Prone to catastrophic overfitting (PGD accuracy collapsing
 * within an epoch): watch the held-out PGD accuracy and stop early.
 */
export function fastFgsmTraining(options: { eps: number; relStepsize?: number; ramp?: number }): Defense {
  const rel = options.relStepsize ?? 1.25;
  if (!(rel > 0)) throw new UserError(`fast-fgsm=${rel}: the step is a positive multiple of ε (Wong et al. use 1.25)`);
  const attack = gradientDescentAttack('fgsm-rs', linf, { steps: 1, relStepsize: rel, randomStart: true, loss: 'ce', restarts: 1 });
  const t: TrainingAttack = { eps: options.eps, attack, ramp: options.ramp };
  return replacing(rel === 1.25 ? 'fast-fgsm' : `fast-fgsm=${rel}`, t.eps, t.ramp, (ctx, b) => adversarialExamples(ctx, b, t), { attack: attack.name, attackConfig: attack.config, relStepsize: rel });
}

/**
 * PGD adversarial training — Madry, Makelov, Schmidt, Tsipras & Vladu, ICLR 2018
 * (arXiv:1706.06083): minimise the cross-entropy on PGD's examples only. By default PGD-7 with
 * step 2.5·ε/7 from a uniform random start, keeping the last iterate (projectedAscent); with
 * `attack`, any registered attack through runAttack.
 */
export function pgdAdversarialTraining(options: AscentTraining & { attack?: Attack }): Defense {
  const { eps, ramp, attack } = options;
  if (attack) return replacing('pgd-at', eps, ramp, (ctx, b) => adversarialExamples(ctx, b, { eps, attack, ramp }), { attack: attack.name, attackConfig: attack.config });
  const { steps, stepSize } = ascentSteps(options, 7, 'pgd-at');
  const make: ExampleMaker = (ctx, b) =>
    projectedAscent(ctx.classifier, b.x, (z) => tf.sum(crossEntropy(z, b.y)) as tf.Scalar, { ...rampedBudget(eps, stepSize, ramp, ctx.epoch), steps, start: 'uniform', seed: ctx.seed });
  return replacing('pgd-at', eps, ramp, make, { attack: 'pgd (last iterate)', steps, stepSize });
}
