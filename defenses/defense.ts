import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { HookContext, TrainingBatch, TrainingHooks } from '../src/train/loop.js';

/**
 * When a defense's batch hook runs relative to the others: augmentation first (adversarial
 * examples are made from the augmented images), then soft targets (label smoothing,
 * distillation), then adversarial examples; 'update' defenses only touch gradients and weights.
 */
export type Stage = 'augment' | 'targets' | 'adversarial' | 'update';
const STAGE_ORDER: readonly Stage[] = ['augment', 'targets', 'adversarial', 'update'];

/** What the loss sees of a batch: labels and, when a defense set them, target distributions. */
export interface LossTargets {
  y: tf.Tensor1D;
  targets?: tf.Tensor2D;
}

/** The rest of the loss chain: by default the mean cross-entropy against the targets. */
export type LossFn = (logits: tf.Tensor2D, t: LossTargets) => tf.Scalar;

/**
 * A training-time defense: hooks on the batch, the loss and the gradients (see TrainingHooks),
 * made to compose: a batch hook takes the batch the previous defense produced, a loss hook wraps
 * the rest of the loss chain (`next`), gradient and after-step hooks run in the order given.
 */
export interface Defense {
  /** The spec that made it, e.g. "clip-norm=1@dense_Dense1" (recorded with the model). */
  name: string;
  stage: Stage;
  /** Returns a new batch; the tensors of the batch it was given stay owned by the caller. */
  batch?(batch: TrainingBatch, ctx: HookContext): TrainingBatch | Promise<TrainingBatch>;
  /** The loss on these logits and targets (a part of the batch when an outer hook split it); next is the rest of the chain. */
  loss?(logits: tf.Tensor2D, t: LossTargets, next: LossFn, ctx: HookContext, batch: TrainingBatch): tf.Scalar;
  gradients?(grads: tf.NamedTensorMap, ctx: HookContext): tf.NamedTensorMap;
  afterStep?(ctx: HookContext): void;
  /** Weight perturbation before the tape (AWP); see TrainingHooks.perturbWeights. At most one. */
  perturbWeights?: TrainingHooks['perturbWeights'];
  /** Weight averaging (EMA): evaluation weights, final weights, checkpointed state. At most one. */
  withEvaluationWeights?: TrainingHooks['withEvaluationWeights'];
  finish?: TrainingHooks['finish'];
  state?: TrainingHooks['state'];
  restoreState?: TrainingHooks['restoreState'];
  dispose?(): void;
  /** Settings for the model's metadata (attack, ε, steps…). */
  describe?(): Record<string, unknown>;
}

/** Mean cross-entropy of the logits against the target distributions (one-hot labels when none). */
export function baseLoss(logits: tf.Tensor2D, t: LossTargets): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(t.targets ?? tf.oneHot(tf.cast(t.y, 'int32'), logits.shape[1]), logits) as tf.Scalar);
}

/** Rows [start, start + count) of the loss targets. */
export function targetRows(t: LossTargets, start: number, count: number): LossTargets {
  return {
    y: tf.slice(t.y, [start], [count]),
    ...(t.targets ? { targets: tf.slice(t.targets, [start, 0], [count, -1]) } : {}),
  };
}

function tensorsOf(b: TrainingBatch): tf.Tensor[] {
  return [b.x, b.y, ...(b.targets ? [b.targets] : [])];
}

function byStage(defenses: Defense[]): Defense[] {
  // Array.prototype.sort is stable: within a stage the spec's order is kept.
  return [...defenses].sort((a, b) => STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage));
}

/**
 * The training hooks of several defenses together. Batch hooks run by stage (augment, targets,
 * adversarial), each on the previous one's batch; loss hooks wrap each other so that the
 * adversarial one is outermost (it splits clean and adversarial rows, the inner ones see each
 * part); gradient and after-step hooks run in the order the defenses were given. At most one
 * defense may make adversarial examples.
 */
export function composeDefenses(defenses: Defense[]): TrainingHooks {
  const adversarial = defenses.filter((d) => d.stage === 'adversarial');
  if (adversarial.length > 1) {
    throw new UserError(`--defense combines ${adversarial.map((d) => d.name).join(' and ')}: choose one kind of adversarial training`);
  }
  const ordered = byStage(defenses);
  const batchers = ordered.filter((d) => d.batch);
  const lossers = ordered.filter((d) => d.loss);
  const updaters = defenses.filter((d) => d.gradients);
  // A weight average takes in the weights after every other after-step hook (max-norm) ran.
  const afters = [...defenses.filter((d) => d.afterStep && !d.withEvaluationWeights), ...defenses.filter((d) => d.afterStep && d.withEvaluationWeights)];
  for (const [what, list] of [
    ['perturb the weights', defenses.filter((d) => d.perturbWeights)],
    ['average the weights', defenses.filter((d) => d.withEvaluationWeights)],
  ] as const) {
    if (list.length > 1) throw new UserError(`--defense combines ${list.map((d) => d.name).join(' and ')}, which both ${what}: keep one`);
  }
  const hooks: TrainingHooks = {};
  if (batchers.length > 0) {
    hooks.batch = async (x, y, ctx) => {
      const input: TrainingBatch = { x, y };
      let current = input;
      for (const d of batchers) {
        const next = await d.batch!(current, ctx);
        // Intermediate batches belong to the chain: free what the next batch no longer uses.
        if (current !== input) {
          const keep = new Set([...tensorsOf(next), ...tensorsOf(input)]);
          tf.dispose(tensorsOf(current).filter((t) => !keep.has(t)));
        }
        current = next;
      }
      return current;
    };
  }
  if (lossers.length > 0) {
    hooks.loss = (logits, y, ctx, batch) => {
      let chain: LossFn = baseLoss;
      for (const d of lossers) {
        const inner = chain;
        chain = (z, t) => d.loss!(z, t, inner, ctx, batch);
      }
      return chain(logits, { y, ...(batch.targets ? { targets: batch.targets } : {}) });
    };
  }
  if (updaters.length > 0) hooks.gradients = (grads, ctx) => updaters.reduce((g, d) => d.gradients!(g, ctx), grads);
  if (afters.length > 0) hooks.afterStep = (ctx) => afters.forEach((d) => d.afterStep!(ctx));
  const perturber = defenses.find((d) => d.perturbWeights);
  if (perturber) hooks.perturbWeights = (ctx, loss) => perturber.perturbWeights!(ctx, loss);
  const averager = defenses.find((d) => d.withEvaluationWeights);
  if (averager) {
    hooks.withEvaluationWeights = (model, fn) => averager.withEvaluationWeights!(model, fn);
    if (averager.finish) hooks.finish = (model) => averager.finish!(model);
    if (averager.state) hooks.state = () => averager.state!();
    if (averager.restoreState) hooks.restoreState = (saved) => averager.restoreState!(saved);
  }
  const disposers = defenses.filter((d) => d.dispose);
  if (disposers.length > 0) hooks.dispose = () => disposers.forEach((d) => d.dispose!());
  return hooks;
}
