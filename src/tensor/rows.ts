import * as tf from '@tensorflow/tfjs';

/** Rows of a batch, by index (a sub-batch of the examples still standing). */
export function takeRows<T extends tf.Tensor>(t: T, rows: number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(rows, 'int32'))) as T;
}

/**
 * base with some rows replaced: row rows[k] of the result is sub's row k where replace[k] is
 * true. Built from gather + where (no scatter kernel needed, so it runs on every backend).
 */
export function mergeRows(base: tf.Tensor4D, sub: tf.Tensor4D, rows: number[], replace: ArrayLike<boolean | number>): tf.Tensor4D {
  return tf.tidy(() => {
    const n = base.shape[0];
    const from = new Int32Array(n);
    const mask = new Uint8Array(n);
    rows.forEach((row, k) => {
      from[row] = k;
      mask[row] = replace[k] ? 1 : 0;
    });
    const spread = tf.gather(sub, tf.tensor1d(from, 'int32'));
    const m = tf.reshape(tf.tensor1d(mask, 'bool'), [n, 1, 1, 1]);
    return tf.where(tf.broadcastTo(m, base.shape), spread, base) as tf.Tensor4D;
  });
}
