import * as tf from '@tensorflow/tfjs';

/**
 * Difference-of-Logits-Ratio losses of Croce & Hein 2020 (arXiv:2003.01690, §4), both to be
 * maximised. The denominators make them invariant to shifting and rescaling the logits, so a
 * model cannot hide behind large logits the way it can against cross-entropy.
 *
 * Written without tf.topk because TopK has no gradient in tfjs: the sorted logits are picked
 * with argMax + one-hot masks, and the values are read back from the logits themselves so that
 * the gradient flows into the chosen entries exactly as through torch.sort in the reference.
 */

/** Large enough to push a masked logit below every real one; only used to choose indices. */
const MASK = 1e9;
/** Keeps the ratio finite when the sorted logits coincide (as in the reference). */
const TINY = 1e-12;

/** The k largest logits per row, largest first, as k [n] tensors that carry gradients. */
export function sortedLogits(logits: tf.Tensor2D, k: number): tf.Tensor1D[] {
  const numClasses = logits.shape[1];
  const values: tf.Tensor1D[] = [];
  let masked: tf.Tensor2D = logits;
  for (let i = 0; i < k; i++) {
    const pick = tf.oneHot(tf.argMax(masked, 1), numClasses);
    values.push(tf.sum(tf.mul(logits, pick), 1) as tf.Tensor1D);
    masked = tf.sub(masked, tf.mul(pick, MASK)) as tf.Tensor2D;
  }
  return values;
}

function pickLogit(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.sum(tf.mul(logits, tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1])), 1) as tf.Tensor1D;
}

/** Untargeted DLR: −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12). Needs ≥ 3 classes. */
export function dlrLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (logits.shape[1] < 3) throw new Error(`DLR loss needs at least 3 classes, the model has ${logits.shape[1]}`);
  return tf.tidy(() => {
    const [z1, z2, z3] = sortedLogits(logits, 3) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const zy = pickLogit(logits, labels);
    // The largest other logit is z_π2 when y is the top class, else z_π1 (as in the reference).
    // Built from one-hots, not tf.equal: Equal has no gradient, and this sits on the tape.
    const numClasses = logits.shape[1];
    const yOnTop = tf.sum(tf.mul(tf.oneHot(tf.argMax(logits, 1), numClasses), tf.oneHot(tf.cast(labels, 'int32'), numClasses)), 1);
    const maxOther = tf.add(tf.mul(yOnTop, z2), tf.mul(tf.sub(1, yOnTop), z1));
    return tf.neg(tf.div(tf.sub(zy, maxOther), tf.add(tf.sub(z1, z3), TINY))) as tf.Tensor1D;
  });
}

/**
 * Targeted DLR: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12), y the class to leave and t the
 * target. Needs ≥ 4 classes.
 */
export function dlrTargetedLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, targets: tf.Tensor1D): tf.Tensor1D {
  if (logits.shape[1] < 4) throw new Error(`targeted DLR loss needs at least 4 classes, the model has ${logits.shape[1]}`);
  return tf.tidy(() => {
    const [z1, , z3, z4] = sortedLogits(logits, 4) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const numerator = tf.sub(pickLogit(logits, labels), pickLogit(logits, targets));
    const denominator = tf.add(tf.sub(z1, tf.div(tf.add(z3, z4), 2)), TINY);
    return tf.neg(tf.div(numerator, denominator)) as tf.Tensor1D;
  });
}
