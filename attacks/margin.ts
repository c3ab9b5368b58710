import * as tf from '@tensorflow/tfjs';

/** Large enough to push a masked logit below every real one. */
const MASK = 1e9;

/**
 * The logit margin the minimal attacks drive below zero, per example: untargeted
 * z_y − max_{j≠y} z_j (y the true class), targeted max_{j≠t} z_j − z_t (t the target).
 * Positive = not yet adversarial. Differentiable (tf.max passes the gradient to the maximum).
 */
export function logitMargin(logits: tf.Tensor2D, labels: tf.Tensor1D, targeted: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    const own = tf.sum(tf.mul(logits, oneHot), 1);
    const other = tf.max(tf.sub(logits, tf.mul(oneHot, MASK)), 1);
    return (targeted ? tf.sub(other, own) : tf.sub(own, other)) as tf.Tensor1D;
  });
}

/** Per-example L_p norm over the pixel axes, p ∈ {1, 2, ∞}. */
export function pixelNorm(t: tf.Tensor4D, p: 1 | 2 | 'inf'): tf.Tensor1D {
  return tf.tidy(() => {
    if (p === 'inf') return tf.max(tf.abs(t), [1, 2, 3]) as tf.Tensor1D;
    if (p === 1) return tf.sum(tf.abs(t), [1, 2, 3]) as tf.Tensor1D;
    return tf.sqrt(tf.sum(tf.square(t), [1, 2, 3])) as tf.Tensor1D;
  });
}

/** Row i of the result is a[i] where mask[i], else b[i]. */
export function selectRows(mask: tf.Tensor1D, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.where(tf.broadcastTo(tf.reshape(tf.cast(mask, 'bool'), [-1, 1, 1, 1]), a.shape), a, b) as tf.Tensor4D);
}

/** `best` with the rows `better` marks replaced by x0 + δ (the best-so-far of DDN and FMN); frees the old `best`. */
export function keepBetter(better: Uint8Array, x0: tf.Tensor4D, delta: tf.Tensor4D, best: tf.Tensor4D): tf.Tensor4D {
  if (!better.some((b) => b === 1)) return best;
  const next = tf.tidy(() => selectRows(tf.tensor1d(better, 'int32'), tf.add(x0, delta) as tf.Tensor4D, best));
  best.dispose();
  return next;
}

