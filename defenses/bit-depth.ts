import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { InputTransform } from '../src/model/input-transform.js';

/**
 * Bit-depth reduction (feature squeezing, Xu, Evans & Qi, NDSS 2018): x ← round(x·(2^b − 1))/(2^b − 1)
 * on [0, 1] inputs. Its gradient is zero almost everywhere: attack it with BPDA.
 */
export function bitDepth(bits: number): InputTransform {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new UserError(`bit-depth ${bits}: give an integer number of bits in 1..16`);
  const levels = 2 ** bits - 1;
  return {
    name: `bit-depth=${bits}`,
    randomized: false,
    apply: (x) => tf.tidy(() => tf.div(tf.round(tf.mul(x, levels)), levels) as tf.Tensor4D),
  };
}
