import * as tf from '@tensorflow/tfjs';

type Values<T extends tf.Tensor[]> = { [K in keyof T]: Float32Array };

/**
 * The values of the tensors `f` returns, computed in a tidy scope and read after it. Reading
 * inside the scope (`tf.tidy(() => t.dataSync())`) makes tf.tidy walk every element of the
 * returned typed array looking for tensors, one for-in key at a time: for a batch's pixels that
 * cost more than the forward pass (a quarter of FAB's time).
 */
export function tidyValues<T extends tf.Tensor[]>(f: () => [...T]): Values<T> {
  const tensors = tf.tidy(f);
  try {
    // Float32Array for float tensors; callers reading int32/bool tensors cast (see tidyInts).
    return tensors.map((t) => t.dataSync()) as Values<T>;
  } finally {
    tf.dispose(tensors);
  }
}

/** tidyValues for one float tensor. */
export function tidyValue(f: () => tf.Tensor): Float32Array {
  return tidyValues(() => [f()])[0];
}

/** tidyValues for one int32 tensor (argMax, labels). */
export function tidyInts(f: () => tf.Tensor): Int32Array {
  return tidyValues(() => [f()])[0] as unknown as Int32Array;
}
