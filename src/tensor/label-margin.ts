import * as tf from '@tensorflow/tfjs';

/** Per row, the logit of `labels` minus the largest other logit (> 0: the label is the top class). */
export function labelMargin(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const mask = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    const own = tf.sum(tf.mul(logits, mask), 1);
    // The label's own logit pushed far below any finite logit, so the max is over the others.
    const others = tf.max(tf.sub(logits, tf.mul(mask, 1e30)), 1);
    return tf.sub(own, others) as tf.Tensor1D;
  });
}
