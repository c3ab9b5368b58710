import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { Classifier } from '../src/types.js';
import type { Defense } from './defense.js';

/**
 * Defensive distillation — Papernot, McDaniel, Wu, Jha & Swami, "Distillation as a Defense to
 * Adversarial Perturbations against Deep Neural Networks", IEEE S&P 2016 (arXiv:1511.04508).
 * A teacher is trained with its softmax at temperature T; a student of the same architecture is
 * trained at T on the teacher's softened probabilities; at test time T = 1, i.e. the saved model
 * outputs its logits unscaled. Those logits are about T times larger than a normally trained
 * model's, so the softmax saturates and cross-entropy input gradients vanish (underflow to 0 in
 * float32): gradient masking, which Carlini & Wagner (2017, arXiv:1607.04311) break with losses
 * on the logits. Evaluate it with margin losses (--loss dlr, apgd-dlr) and Square, never with
 * FGSM alone.
 */

function checkTemperature(t: number, name: string): void {
  if (!(t >= 1 && Number.isFinite(t))) throw new UserError(`${name}=${t}: give a temperature ≥ 1, e.g. ${name}=20 (Papernot et al. use 20–100)`);
}

/** The teacher's soft labels: softmax(z/T). */
export function softTargets(teacherLogits: tf.Tensor2D, t: number): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(tf.div(teacherLogits, t)) as tf.Tensor2D);
}

/** Training with the softmax at temperature T: the loss sees z/T (the teacher of distillation). */
export function temperature(t: number): Defense {
  checkTemperature(t, 'temperature');
  return {
    name: `temperature=${t}`,
    stage: 'targets',
    loss: (logits, targets, next) => tf.tidy(() => next(tf.div(logits, t) as tf.Tensor2D, targets)),
    describe: () => ({ temperature: t }),
  };
}

/**
 * The student of distillation: targets are the teacher's probabilities at T on the same (possibly
 * augmented) images, and the student's softmax runs at T as well.
 */
export function distill(teacher: Classifier, t: number): Defense {
  checkTemperature(t, 'distill');
  return {
    name: `distill=${t}`,
    stage: 'targets',
    batch: (b) => ({ ...b, targets: tf.tidy(() => softTargets(teacher.logits(b.x), t)) }),
    loss: (logits, targets, next) => tf.tidy(() => next(tf.div(logits, t) as tf.Tensor2D, targets)),
    describe: () => ({ temperature: t, teacher: teacher.describe?.() ?? {} }),
  };
}
