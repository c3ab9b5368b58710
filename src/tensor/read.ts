import * as tf from '@tensorflow/tfjs';

type Values<T extends tf.Tensor[]> = { [K in keyof T]: Float32Array };

/**
 * Computes `f`'s tensors in a tidy scope and reads them after it. Reading inside the scope
 * (`tf.tidy(() => t.dataSync())`) makes tf.tidy walk every element of the returned typed array
 * looking for tensors, one for-in key at a time: for a batch's pixels that took a quarter of a FAB
 * run's CPU time. Clones (which share the data) are read and disposed, so a tensor `f` returns
 * from outside the scope, such as a model's cached output, survives.
 */
function read(f: () => tf.Tensor[], dtype: 'float32' | 'int32'): (Float32Array | Int32Array)[] {
  const tensors = tf.tidy(() => f().map((t) => tf.clone(t)));
  try {
    return tensors.map((t) => {
      // A typed-array type that lied about its contents would go unnoticed: refuse it here.
      if (t.dtype !== dtype) throw new Error(`expected ${dtype === 'int32' ? 'an' : 'a'} ${dtype} tensor, got ${t.dtype}`);
      return t.dataSync() as Float32Array | Int32Array;
    });
  } finally {
    tf.dispose(tensors);
  }
}

/** The values of float32 tensors computed by `f` (see read). */
export function tidyValues<T extends tf.Tensor[]>(f: () => [...T]): Values<T> {
  return read(f, 'float32') as Values<T>;
}

/** tidyValues for one float32 tensor. */
export function tidyValue(f: () => tf.Tensor): Float32Array {
  return read(() => [f()], 'float32')[0] as Float32Array;
}

/** The values of one int32 tensor (argMax, labels) computed by `f`. */
export function tidyInts(f: () => tf.Tensor): Int32Array {
  return read(() => [f()], 'int32')[0] as Int32Array;
}
