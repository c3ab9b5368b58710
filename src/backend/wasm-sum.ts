/**
 * `Sum` over leading axes on wasm as an average pooling.
 *
 * Bias gradients sum dy over every axis but the channels ([N,H,W,C] → [C]). The stock wasm kernel
 * reduces only innermost axes, so it first transposes the whole tensor (12-19 ms for the MNIST
 * CNN's first conv at batch 128). Viewed as [N, H·W, 1, C], the sum over H·W is H·W times an
 * average pooling with an [H·W, 1] window, which XNNPACK runs over contiguous channel vectors
 * (about 1.5 ms); the remaining sum over N is the same kernel again on [N, C].
 * (A matMul ones[1,R] · x[R,C] is not an alternative: XNNPACK repacks x as GEMM weights, which
 * costs more than the transpose.) Other reductions go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asTensor, callOriginal } from './wasm-fallback.js';

/** Pool over [lead, rows, 1, cols] with a [rows, 1] window, times rows: [lead, cols]. */
function poolSum(x: tf.Tensor, lead: number, rows: number, cols: number): tf.Tensor2D {
  const pooled = tf.avgPool(tf.reshape(x, [lead, rows, 1, cols]) as tf.Tensor4D, [rows, 1], [rows, 1], 'valid');
  return tf.mul(tf.reshape(pooled, [lead, cols]), rows) as tf.Tensor2D;
}

export const sumKernel: tf.KernelFunc = (args) => {
  const x = args.inputs['x'];
  const { axis, keepDims } = (args.attrs ?? {}) as unknown as tf.SumAttrs;
  if (x === undefined || x.dtype !== 'float32') return callOriginal('Sum', args, `dtype ${x?.dtype ?? 'missing'}`);
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  // Leading axes 0..k-1 with at least one axis kept: x is then [R, C] row-major.
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const reduced = x.shape.slice(0, axes.length);
  const rows = reduced.reduce((p, d) => p * d, 1);
  if (!leading || rows < 2 || x.shape.some((d) => d === 0)) {
    return callOriginal('Sum', args, `axes [${axes.join(', ')}] of rank ${rank}`);
  }
  const kept = x.shape.slice(axes.length);
  const cols = kept.reduce((p, d) => p * d, 1);
  const outShape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
  return tf.tidy(() => {
    const xt = asTensor(x);
    // Two stages when there are two or more reduced axes: inner ones first, then the first.
    const first = reduced[0]!;
    const partial = reduced.length > 1 && first > 1 ? poolSum(xt, first, rows / first, cols) : undefined;
    const total = partial ? poolSum(partial, 1, first, cols) : poolSum(xt, 1, rows, cols);
    return tf.reshape(total, outShape);
  });
};
