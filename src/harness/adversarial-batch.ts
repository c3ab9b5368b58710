import * as tf from '@tensorflow/tfjs';
import type { ImageInput } from '../data/image-files.js';
import { scoresOf } from '../model/scores.js';
import { quantize8WithinBudget } from '../tensor/finalize.js';
import type { Attack, Classifier } from '../types.js';
import { runAttack } from '../../attacks/run-attack.js';
import { checkFiniteScores } from './evaluate-batch.js';
import { chooseTargets, type TargetSpec } from './targets.js';
import { tidyInts, tidyValue } from '../tensor/read.js';

// The attack step of attackImages: a batch's clean pass, and its adversarial images computed in
// this thread or a worker's.

/** One batch to attack: what a worker thread needs besides the model and the attack. */
export interface AttackBatch {
  /** Index of the batch's first image among all inputs (per-example randomness is keyed on it). */
  start: number;
  /** The batch's pixels, image after image. */
  pixels: Float32Array;
  /** True labels (untargeted) or target classes (targeted). */
  labels: Int32Array;
  targeted: boolean;
  /** The budget of this batch (default: the one the runner was made with). */
  eps?: number;
  /** Global index of each image when they are not start, start + 1, … (some were left out). */
  indices?: Int32Array;
}

/** Computes a batch's adversarial images, 8-bit quantised within the budget (in any thread). */
export type AttackBatchRunner = (batch: AttackBatch) => Promise<Float32Array>;

/**
 * runAttack, then the 8-bit image closest to the result whose change from the original stays
 * within ε. Deterministic for a seed: the attack's randomness is drawn per example from its
 * global index.
 */
export async function adversarialBatch(model: Classifier, attack: Attack, eps: number, seed: number, batch: AttackBatch): Promise<Float32Array> {
  const n = batch.labels.length;
  const budget = batch.eps ?? eps;
  const x = tf.tensor4d(batch.pixels, [n, ...model.inputShape]);
  const labels = tf.tensor1d(batch.labels, 'int32');
  try {
    const indices = batch.indices ?? Int32Array.from({ length: n }, (_, i) => batch.start + i);
    const { adv } = await runAttack(model, attack, x, { labels, targeted: batch.targeted }, budget, seed, indices);
    const q = quantize8WithinBudget(adv, x, model.bounds);
    adv.dispose();
    const out = q.dataSync() as Float32Array;
    q.dispose();
    return out;
  } finally {
    tf.dispose([x, labels]);
  }
}

/** A batch's predicted classes and softmax probabilities (row-major). */
export interface Predictions {
  prediction: Int32Array;
  probs: Float32Array;
}

export function softmaxTop(logits: tf.Tensor2D): Predictions {
  return { prediction: tidyInts(() => tf.argMax(logits, 1)), probs: tidyValue(() => tf.softmax(logits)) };
}

/** The predictions of a batch of images given as flat pixels. */
export async function predictPixels(model: Classifier, pixels: Float32Array, n: number): Promise<Predictions> {
  const x = tf.tensor4d(pixels, [n, ...model.inputShape]);
  const logits = await scoresOf(model, x).finally(() => x.dispose());
  try {
    return softmaxTop(logits);
  } finally {
    logits.dispose();
  }
}

/** One batch at one ε after its clean pass, its attack started on the runner. */
export type StartedBatch = Awaited<ReturnType<typeof startBatch>>;

/**
 * The clean pass of the images `batch` (the first at `start` among all inputs): labels (the file
 * name's, else the clean prediction), targets, and the attack started on `run` for the rows the
 * model gets right (`attacked`: the others were misclassified before the attack).
 */
export async function startBatch(model: Classifier, batch: ImageInput[], start: number, eps: number, target: TargetSpec, seed: number, run: AttackBatchRunner) {
  const shape = model.inputShape;
  const pixels = shape[0] * shape[1] * shape[2];
  const flat = new Float32Array(batch.length * pixels);
  batch.forEach((b, i) => flat.set(b.pixels, i * pixels));
  const x = tf.tensor4d(flat, [batch.length, ...shape]);
  const cleanLogits = await scoresOf(model, x).finally(() => x.dispose());
  try {
    checkFiniteScores(model, cleanLogits, (row) => batch[row]!.source);
    const clean = softmaxTop(cleanLogits);
    const labels = Int32Array.from(batch, (b, i) => b.label ?? clean.prediction[i]!);
    const targets = target === 'untargeted' ? undefined : chooseTargets(target, cleanLogits, labels, start, seed);
    const attacked = batch.flatMap((b, i) => (b.label !== undefined && clean.prediction[i] !== b.label ? [] : [i]));
    const all = attacked.length === batch.length;
    const sub = new Float32Array(attacked.length * pixels);
    attacked.forEach((row, j) => sub.set(flat.subarray(row * pixels, (row + 1) * pixels), j * pixels));
    const goal = targets ?? labels;
    const adversarial =
      attacked.length === 0
        ? Promise.resolve(new Float32Array(0))
        : run({
            start,
            pixels: all ? flat : sub,
            labels: Int32Array.from(attacked, (row) => goal[row]!),
            targeted: targets !== undefined,
            eps,
            ...(all ? {} : { indices: Int32Array.from(attacked, (row) => start + row) }),
          });
    // Awaited in order later; a failure meanwhile must not surface as an unhandled rejection.
    adversarial.catch(() => undefined);
    return { eps, start, batch, clean, labels, ...(targets ? { targets } : {}), attacked, adversarial };
  } finally {
    cleanLogits.dispose();
  }
}
