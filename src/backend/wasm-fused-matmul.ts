/**
 * `_FusedMatMul` on wasm with a bias: tfjs-backend-wasm 4.22 gets it wrong when an operand is
 * transposed or the product is batched (results off by whole units against matMul + bias;
 * measured for every transposeA / transposeB combination and batch 3, with and without an
 * activation). Those products are computed here as BatchMatMul + add + the activation op; a
 * single untransposed product (every Dense layer) and bias-free products go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asTensor, callOriginal, sizeOf } from './wasm-fallback.js';

export const FUSED_MATMUL_KERNEL = '_FusedMatMul';

function activate(y: tf.Tensor, activation: string | undefined, prelu: tf.Tensor | undefined, alpha: number | undefined): tf.Tensor {
  switch (activation ?? 'linear') {
    case 'linear':
      return y;
    case 'relu':
      return tf.relu(y);
    case 'relu6':
      return tf.relu6(y);
    case 'elu':
      return tf.elu(y);
    case 'sigmoid':
      return tf.sigmoid(y);
    case 'leakyrelu':
      return tf.leakyRelu(y, alpha);
    case 'prelu':
      if (prelu === undefined) throw new Error('_FusedMatMul: prelu activation without weights');
      return tf.prelu(y, prelu);
    default:
      throw new Error(`_FusedMatMul: unknown activation '${String(activation)}'`);
  }
}

export const fusedMatMulKernel: tf.KernelFunc = (args) => {
  const { inputs, attrs } = args;
  const a = attrs as unknown as { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };
  const bias = inputs['bias'];
  const ai = inputs['a']!;
  const bi = inputs['b']!;
  const batched = sizeOf(ai.shape.slice(0, -2)) > 1 || sizeOf(bi.shape.slice(0, -2)) > 1;
  if (bias === undefined || bias === null || (!a.transposeA && !a.transposeB && !batched)) {
    return callOriginal(FUSED_MATMUL_KERNEL, args, 'no bias, or one untransposed product');
  }
  return tf.tidy(() => {
    const prelu = inputs['preluActivationWeights'];
    const product = tf.matMul(asTensor(ai), asTensor(bi), a.transposeA === true, a.transposeB === true);
    return activate(tf.add(product, asTensor(bias)), a.activation, prelu ? asTensor(prelu) : undefined, a.leakyreluAlpha);
  });
};
