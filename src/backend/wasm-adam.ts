/**
 * Adam's update of one variable as one wasm kernel (`AdvtestAdam`): tfjs's AdamOptimizer runs 14
 * kernels per variable and makes 6 scalar tensors, per-kernel overhead worth about 1 ms of the
 * MNIST CNN's ~46 ms training step on wasm (test/bench/ablation.ts, issue 21). The kernel
 * computes tfjs's operations in the same float32 order (simd-kernels.wat's `adam`, or the JS loop
 * below rounding each step), so the weights are the same bits; src/train/optimizers.ts's Adam
 * calls it where it is registered.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernels } from './simd-kernels.js';
import { BACKEND, isWasmBackend, sizeOf } from './wasm-fallback.js';

export const ADAM_KERNEL = 'AdvtestAdam';

/** The constants, each already a float32 as tfjs's scalar tensors hold them. */
export interface AdamAttrs {
  b1: number;
  omb1: number;
  b2: number;
  omb2: number;
  /** 1 − β1^t and 1 − β2^t (tfjs: sub(1, accBeta)). */
  c1: number;
  c2: number;
  eps: number;
  /** −learning rate. */
  nlr: number;
}

const f = Math.fround;

function adamJs(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, w2: Float32Array, m2: Float32Array, v2: Float32Array, a: AdamAttrs): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = f(f(m[i]! * a.b1) + f(gi * a.omb1));
    const vi = f(f(v[i]! * a.b2) + f(f(gi * gi) * a.omb2));
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = f(f(f(f(mi / a.c1) / f(f(Math.sqrt(f(vi / a.c2))) + a.eps)) * a.nlr) + w[i]!);
  }
}

const adamKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { w, g, m, v } = inputs as Record<'w' | 'g' | 'm' | 'v', tf.TensorInfo>;
  if (!isWasmBackend(backend)) throw new Error(`${ADAM_KERNEL}: not the wasm backend`);
  for (const t of [g, m, v]) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, w.shape)) {
      throw new Error(`${ADAM_KERNEL}: every input must be float32 of shape [${w.shape.join(', ')}], got ${t.dtype} [${t.shape.join(', ')}]`);
    }
  }
  const a = attrs as unknown as AdamAttrs;
  // Allocate first: allocation may grow the wasm memory, which detaches earlier heap views.
  const outs = [0, 1, 2].map(() => backend.makeOutput(w.shape, 'float32'));
  const [w2, m2, v2] = outs as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
  const simd = simdKernels(backend);
  if (simd !== undefined) {
    const p = (t: tf.TensorInfo) => heapOffset(backend, t);
    simd.adam(p(w), p(g), p(m), p(v), p(w2), p(m2), p(v2), sizeOf(w.shape), a.b1, a.omb1, a.b2, a.omb2, a.c1, a.c2, a.eps, a.nlr);
  } else {
    const h = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
    adamJs(h(w), h(g), h(m), h(v), h(w2), h(m2), h(v2), a);
  }
  return outs;
};

export function registerAdamKernel(): void {
  if (tf.getKernel(ADAM_KERNEL, BACKEND) === undefined) tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: BACKEND, kernelFunc: adamKernel });
}

export function unregisterAdamKernel(): void {
  if (tf.getKernel(ADAM_KERNEL, BACKEND) !== undefined) tf.unregisterKernel(ADAM_KERNEL, BACKEND);
}
