import * as tf from '@tensorflow/tfjs';
import { subset } from '../data/dataset.js';
import { UserError } from '../errors.js';
import { runAttack } from '../../attacks/run-attack.js';
import { makeRng, permutation } from '../tensor/random.js';
import type { Attack, Classifier, Dataset } from '../types.js';

/**
 * Splits n seeded-random examples off a training split, so that a robustness monitor measures
 * examples the model never trains on (the rest is returned for training).
 */
export function holdOut(data: Dataset, n: number, seed: number): { train: Dataset; heldOut: Dataset } {
  if (!Number.isInteger(n) || n < 1 || n >= data.size) {
    throw new UserError(`cannot hold out ${n} of the ${data.size} training examples: give a count from 1 to ${data.size - 1}, e.g. --holdout 200`);
  }
  const order = permutation(data.size, makeRng(`holdout:${seed}`));
  // Sorted so that each part keeps the data's own order (only membership is random).
  const held = Array.from(order.subarray(0, n)).sort((a, b) => a - b);
  const rest = Array.from(order.subarray(n)).sort((a, b) => a - b);
  return { train: subset(data, rest), heldOut: subset(data, held) };
}

/** What the monitor measures after an epoch. */
export interface RobustnessProbe {
  clean: number;
  robust: number;
  n: number;
}

/** The attack, budget and held-out examples the training loop measures after every epoch. */
export interface MonitorOptions {
  data: Dataset;
  attack: Attack;
  eps: number;
  batchSize?: number;
}

/**
 * Clean and adversarial accuracy of the model on the held-out examples, through runAttack (so the
 * adversarial images are projected and verified as in any evaluation). An example is robust when
 * it is classified correctly both clean and attacked. Leaves no tensor behind.
 */
export async function measureRobustness(model: Classifier, monitor: MonitorOptions, seed: number): Promise<RobustnessProbe> {
  const { data, attack, eps } = monitor;
  const batchSize = monitor.batchSize ?? 200;
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  let clean = 0;
  let robust = 0;
  for (let start = 0; start < data.size; start += batchSize) {
    const end = Math.min(start + batchSize, data.size);
    const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), [end - start, h, w, c]);
    const y = tf.tensor1d(data.labels.subarray(start, end), 'int32');
    try {
      const { adv } = await runAttack(model, attack, x, { labels: y, targeted: false }, eps, seed, Int32Array.from({ length: end - start }, (_, i) => start + i));
      const [cleanHits, robustHits] = tf.tidy(() => {
        const okClean = tf.equal(tf.argMax(model.logits(x), 1), y);
        const okAdv = tf.logicalAnd(okClean, tf.equal(tf.argMax(model.logits(adv), 1), y));
        return [tf.sum(tf.cast(okClean, 'int32')).dataSync()[0]!, tf.sum(tf.cast(okAdv, 'int32')).dataSync()[0]!];
      });
      adv.dispose();
      clean += cleanHits!;
      robust += robustHits!;
    } finally {
      tf.dispose([x, y]);
    }
  }
  return { clean: clean / data.size, robust: robust / data.size, n: data.size };
}

/** One finished epoch of training: its figures and the held-out robustness probe. */
export interface EpochProgress {
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch. */
  loss: number;
  /** Training accuracy over the epoch (on the batches the loss saw: adversarial ones under adversarial training). */
  accuracy: number;
  heldOut?: RobustnessProbe;
  /**
   * Training time up to the end of this epoch, summed over resumed runs and without the monitor's
   * probes: wall seconds, and this process's CPU seconds (all threads; Node only) — the measure of
   * a robustness-against-training-time curve that another process's load does not inflate.
   */
  seconds?: number;
  cpuSeconds?: number;
  /** Set on the epoch that triggered early stopping. */
  stopped?: string;
  /** Set when the network collapsed to one output for every input (see collapsed()). */
  collapsed?: true;
}

/**
 * Whether an epoch ended with the network predicting the same distribution for every input: the
 * mean loss within 1% of ln K (the cross-entropy of a uniform output) and accuracy at most 1.5/K,
 * held-out clean accuracy when measured (adversarial training's training accuracy can sit near
 * chance while the network still learns). Dead ReLUs keep such a network there for good.
 */
export function collapsed(progress: EpochProgress, classes: number): boolean {
  const accuracy = progress.heldOut ? progress.heldOut.clean : progress.accuracy;
  return Math.abs(progress.loss - Math.log(classes)) < 0.01 * Math.log(classes) && accuracy <= 1.5 / classes;
}

/** The monitor as a trained model's metadata keeps it (training.heldOut): the curve of robustness against training time. */
export interface HeldOutRecord {
  examples: number;
  attack: string;
  eps: number;
  /** Per epoch (from 1): the probe, and the training time up to that epoch. */
  history: (RobustnessProbe & { epoch: number; seconds?: number; cpuSeconds?: number; stopped?: string; collapsed?: true })[];
}

export function heldOutRecord(examples: number, attack: string, eps: number, history: EpochProgress[]): HeldOutRecord {
  return {
    examples,
    attack,
    eps,
    history: history.flatMap((h) => (h.heldOut ? [{ epoch: h.epoch + 1, ...h.heldOut, ...(h.seconds !== undefined ? { seconds: h.seconds } : {}), ...(h.cpuSeconds !== undefined ? { cpuSeconds: h.cpuSeconds } : {}), ...(h.stopped ? { stopped: h.stopped } : {}), ...(h.collapsed ? { collapsed: true as const } : {}) }] : [])),
  };
}

