import * as tf from '@tensorflow/tfjs';

/** Per-example softmax cross-entropy computed from logits (never from probabilities). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const numClasses = logits.shape[1];
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), numClasses);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
}

export type LossName = 'ce';
export const LOSSES: Record<LossName, (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D> = {
  ce: crossEntropy,
};
