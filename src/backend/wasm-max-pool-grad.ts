/**
 * MaxPoolGrad for the wasm backend, with the cpu backend's semantics bit for bit: the first
 * maximum of each window in row-major order gets the window's dy; -Infinity/NaN windows get
 * nothing; overlapping windows accumulate, in output order, from +0, in float64 rounded once.
 *
 * The SIMD kernel of simd-kernels.wat runs on the heap in place (4 channels per step); where it is
 * unavailable, the JS loop below (3-4x faster than the stock wasm kernel, which it replaced
 * before issue 21) does the same.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels } from './simd-kernels.js';
import { callOriginal, isWasmBackend } from './wasm-fallback.js';

type Shape4 = [number, number, number, number];

export const MAXPOOL_GRAD_KERNEL = 'MaxPoolGrad';

/** The emscripten allocator of tfjs's module (the backend allocates tensors with it too). */
interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

export const maxPoolGradKernel: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const dy = inputs['dy'];
  const x = inputs['input'];
  if (dy === undefined || x === undefined || x.shape.length !== 4 || !isWasmBackend(backend)) {
    return callOriginal(MAXPOOL_GRAD_KERNEL, args, 'inputs or backend');
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return callOriginal(MAXPOOL_GRAD_KERNEL, args, `dtype ${x.dtype}`);
  }
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(x.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = info;
  if (dy.shape.length !== 4 || dy.shape[0] !== n || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== ch) {
    return callOriginal(MAXPOOL_GRAD_KERNEL, args, `dy shape [${dy.shape.join(', ')}]`);
  }
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top: pt, left: pl } = info.padInfo;

  // Allocate first: allocation may grow the wasm memory, which detaches earlier heap views.
  const out = backend.makeOutput(x.shape, 'float32');
  // The cpu kernel sums the dy of overlapping windows in float64 and rounds once.
  const overlap = fh > sh || fw > sw;
  const simd = simdKernels(backend);
  if (simd !== undefined) {
    const heap = backend.wasm as unknown as EmscriptenHeap;
    const acc = overlap ? heap._malloc(8 * n * h * w * ch) >>> 0 : 0;
    if (overlap && acc === 0) throw new Error(`${MAXPOOL_GRAD_KERNEL}: out of wasm memory for a ${8 * n * h * w * ch}-byte scratch`);
    try {
      simd.max_pool_grad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), acc, n, h, w, ch, oh, ow, fh, fw, sh, sw, pt, pl);
    } finally {
      if (acc !== 0) heap._free(acc);
    }
    return out;
  }
  maxPoolGradJs(backend, x, dy, out, info, overlap);
  return out;
};

/** The JS loop: one pass over the heap, 2x2/stride-2 windows unrolled. */
function maxPoolGradJs(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, out: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, overlap: boolean): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top: pt, left: pl } = info.padInfo;
  const out32 = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = overlap ? new Float64Array(out32.length) : out32.fill(0);
  const rowStride = w * ch;
  // 2x2 windows at stride 2 never overlap: unrolled, and dx is assigned 0 + dy (cpu's sum: -0 → +0).
  const twoByTwo = fh === 2 && fw === 2 && sh === 2 && sw === 2;
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - pt;
      const rs = Math.max(0, r0);
      const re = Math.min(h, r0 + fh);
      for (let yc = 0; yc < ow; yc++) {
        const c0 = yc * sw - pl;
        const cs = Math.max(0, c0);
        const ce = Math.min(w, c0 + fw);
        const dyBase = ((b * oh + yr) * ow + yc) * ch;
        const start = ((b * h + rs) * w + cs) * ch;
        if (twoByTwo && re - rs === 2 && ce - cs === 2) {
          const p1 = start + ch;
          const p2 = start + rowStride;
          const p3 = p2 + ch;
          for (let d = 0; d < ch; d++) {
            let best = xv[start + d] as number;
            let arg = start + d;
            if (!(best > -Infinity)) {
              best = -Infinity; // -Infinity / NaN are never selected
              arg = -1;
            }
            let v = xv[p1 + d] as number;
            if (v > best) {
              best = v;
              arg = p1 + d;
            }
            v = xv[p2 + d] as number;
            if (v > best) {
              best = v;
              arg = p2 + d;
            }
            v = xv[p3 + d] as number;
            if (v > best) arg = p3 + d;
            if (arg >= 0) dx[arg] = 0 + (dyv[dyBase + d] as number);
          }
          continue;
        }
        for (let d = 0; d < ch; d++) {
          let best = -Infinity;
          let arg = -1;
          for (let r = rs, row = start + d; r < re; r++, row += rowStride) {
            for (let c = cs, i = row; c < ce; c++, i += ch) {
              const v = xv[i] as number;
              if (v > best) {
                best = v;
                arg = i;
              }
            }
          }
          if (arg >= 0) dx[arg] = (dx[arg] as number) + (dyv[dyBase + d] as number);
        }
      }
    }
  }
  if (dx !== out32) out32.set(dx);
}
