import * as tf from '@tensorflow/tfjs';
import { dlrLoss } from './dlr-loss.js';

/** Per-example softmax cross-entropy computed from logits (never from probabilities). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const numClasses = logits.shape[1];
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), numClasses);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
}

export type LossName = 'ce' | 'dlr';
/**
 * Per-example losses the gradient loop can ascend. DLR (Croce & Hein 2020) is scale-invariant;
 * targeted, the loop descends DLR on the target, which pulls the target's logit above the rest.
 */
export const LOSSES: Record<LossName, (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D> = {
  ce: crossEntropy,
  dlr: dlrLoss,
};
