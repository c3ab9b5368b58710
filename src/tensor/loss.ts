import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { dlrLoss } from './dlr-loss.js';

/** Per-example softmax cross-entropy computed from logits (never from probabilities). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const numClasses = logits.shape[1];
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), numClasses);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
}

/** `cw=κ` is the C&W margin loss with confidence κ (`cw` = κ 0). */
export type LossName = 'ce' | 'dlr' | 'cw' | `cw=${number}`;

/**
 * Carlini & Wagner's logit-margin loss (2017, arXiv:1608.04644, f6), to be maximised:
 * min(max_{i≠y} z_i − z_y, κ). It reads the logits, not the softmax, so a model whose large
 * logits saturate the softmax (defensive distillation) still gives it gradients; κ stops the
 * ascent once the wrong class leads by κ (Madry et al.'s MNIST challenge uses 50).
 */
export function cwLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, kappa = 0): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    const own = tf.sum(tf.mul(logits, oneHot), 1);
    // 1e9 pushes the own logit below every other one for the max (as attacks/margin.ts does).
    const other = tf.max(tf.sub(logits, tf.mul(oneHot, 1e9)), 1);
    return tf.minimum(tf.sub(other, own), kappa) as tf.Tensor1D;
  });
}

/**
 * Per-example losses the gradient loop can ascend. DLR (Croce & Hein 2020) is scale-invariant;
 * targeted, the loop descends DLR on the target, which pulls the target's logit above the rest.
 */
export const LOSSES: Record<'ce' | 'dlr' | 'cw', (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D> = {
  ce: crossEntropy,
  dlr: dlrLoss,
  cw: (logits, labels) => cwLoss(logits, labels),
};

const CW_KAPPA = /^cw=(.+)$/;

/** The loss a name stands for: ce, dlr, cw or cw=κ. */
export function lossFunction(name: LossName): (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D {
  const kappa = CW_KAPPA.exec(name);
  if (kappa) {
    const k = Number(kappa[1]);
    return (logits, labels) => cwLoss(logits, labels, k);
  }
  return LOSSES[name as keyof typeof LOSSES];
}

/** `--loss` as given: ce, dlr, cw, or cw=κ with κ ≥ 0; anything else is refused naming the choices. */
export function parseLossName(value: string): LossName {
  if (value in LOSSES) return value as LossName;
  const kappa = CW_KAPPA.exec(value);
  if (kappa) {
    const k = Number(kappa[1]);
    if (kappa[1]!.trim() !== '' && Number.isFinite(k) && k >= 0) return `cw=${k}`;
    throw new UserError(`--loss ${value}: κ must be a number ≥ 0, e.g. --loss cw=50`);
  }
  throw new UserError(`--loss "${value}": use one of ${Object.keys(LOSSES).join(', ')} or cw=κ (e.g. cw=50)`);
}

/** Whether a stored loss name is one this version knows. */
export function isLossName(value: string): value is LossName {
  try {
    parseLossName(value);
    return true;
  } catch {
    return false;
  }
}
