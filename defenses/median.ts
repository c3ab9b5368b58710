import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { InputTransform } from '../src/model/input-transform.js';

/**
 * Sorts a list of same-shaped tensors elementwise with an odd–even transposition network
 * (k passes of compare–exchange on neighbours; Knuth, TAOCP vol. 3, §5.3.4, ex. 37). Built from
 * minimum and maximum, so it has a gradient: each output is routed to the input it came from.
 */
export function sortingNetwork(values: tf.Tensor[]): tf.Tensor[] {
  const v = [...values];
  for (let pass = 0; pass < v.length; pass++) {
    for (let i = pass % 2; i + 1 < v.length; i += 2) {
      const lo = tf.minimum(v[i]!, v[i + 1]!);
      const hi = tf.maximum(v[i]!, v[i + 1]!);
      v[i] = lo;
      v[i + 1] = hi;
    }
  }
  return v;
}

/**
 * Symmetric mirror padding along one axis (edge pixel repeated: c b a | a b c | c b), from slices
 * and reverses: tfjs 4.22's MirrorPad gradient drops the padded positions' contributions, so
 * tf.mirrorPad would give the filter a wrong gradient at the borders.
 */
function mirrorAxis(x: tf.Tensor4D, before: number, after: number, axis: 1 | 2): tf.Tensor4D {
  const size = x.shape[axis];
  const part = (start: number, count: number) => {
    const begin = [0, 0, 0, 0];
    const shape = [-1, -1, -1, -1];
    begin[axis] = start;
    shape[axis] = count;
    return tf.reverse(tf.slice(x, begin, shape), axis);
  };
  const pieces = [...(before > 0 ? [part(0, before)] : []), x, ...(after > 0 ? [part(size - after, after)] : [])];
  return tf.concat(pieces, axis) as tf.Tensor4D;
}

/**
 * Median smoothing (feature squeezing, Xu, Evans & Qi, NDSS 2018, arXiv:1704.01155): each pixel
 * and channel replaced by the median of its k×k neighbourhood, as scipy.ndimage.median_filter
 * (the authors' implementation) computes it: edges mirrored (scipy "reflect", TF "symmetric"),
 * for even k the window reaches k/2 pixels up/left and k/2 − 1 down/right, and the median is the
 * element of rank ⌊k²/2⌋ in ascending order. The filter is differentiable almost everywhere, but
 * attack it through BPDA as well: the evaluation must not depend on that.
 */
export function medianFilter(x: tf.Tensor4D, k: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const before = Math.floor(k / 2);
  const after = k - 1 - before;
  return tf.tidy(() => {
    const padded = mirrorAxis(mirrorAxis(x, before, after, 1), before, after, 2);
    const shifted: tf.Tensor[] = [];
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) shifted.push(tf.slice(padded, [0, dy, dx, 0], [-1, h, w, -1]));
    }
    return sortingNetwork(shifted)[Math.floor((k * k) / 2)] as tf.Tensor4D;
  });
}

export function medianSmoothing(k: number): InputTransform {
  if (!Number.isInteger(k) || k < 2 || k > 7) throw new UserError(`median=${k}: give the window side as an integer from 2 to 7 (Xu et al. use 2 for MNIST, 2–3 for CIFAR-10)`);
  return { name: `median=${k}`, randomized: false, apply: (x) => medianFilter(x, k) };
}
