/**
 * Convolution gradients for layers whose input has few channels (the first layer of an image
 * model: 1 or 3), as one matrix product plus a JS pass over the wasm heap.
 *
 * Patch matrix (im2col): P[m, (r·fw + c)·ci + ch] = xpad[b, i·sh + r, j·sw + c, ch] with
 * m = (b·oh + i)·ow + j and xpad[y, x] = x[y − pt, x − pl] (0 outside).
 *
 * Conv2DBackpropInput: the conv formulation (wasm-kernels.ts) is a convolution with as many
 * output channels as the forward input has; XNNPACK computes at least 8 output channels per
 * pass, so with 1 channel it wastes 7/8 of its work (19 ms for the MNIST CNN's first layer at
 * batch 128). Instead, col = dy · Wᵀ ([M, co] · [co, fh·fw·ci], one GEMM) and dx is P's adjoint
 * applied to col: each column entry is added back where im2col would have read it (col2im;
 * about 5 ms for that layer).
 *
 * Conv2DBackpropFilter: dW = Pᵀ · dy, computed as (dyᵀ · P)ᵀ. XNNPACK repacks the right-hand
 * operand of every product as GEMM weights, which costs far more than the product when that
 * operand is dy ([M, 32] for the first layer: 14 ms); P with its few columns is cheaper to pack,
 * and dyᵀ as the left-hand operand is only transposed — by a blocked loop here, twice as fast as
 * the wasm Transpose kernel on that [86528, 32] matrix (7.4 ms).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels } from './simd-kernels.js';
import { asTensor } from './wasm-fallback.js';

type Shape4 = [number, number, number, number];

/** Geometry of a conv, from the engine's Conv2DInfo. */
interface Geometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}

function geometry(info: tf.backend_util.Conv2DInfo): Geometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    fh: info.filterHeight,
    fw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
  };
}

/**
 * The patch-matrix traversal shared by im2col (gather: p[pi] = x[xi]) and col2im (scatter-add:
 * dx[xi] += col[pi]), over every entry pi that reads an input element xi; entries in the padding
 * are skipped (callers zero-fill them where that matters). Written out once per direction with
 * the inner statement inline: a callback per element costs 3x.
 */
function patches(g: Geometry, gather: boolean, patch: Float32Array, image: Float32Array): void {
  const { n, h, w, ci, oh, ow, fh, fw, sh, sw, pt, pl } = g;
  const taps = fh * fw * ci;
  const rowStride = w * ci;
  for (let b = 0; b < n; b++) {
    const imageBase = b * h * rowStride;
    for (let i = 0; i < oh; i++) {
      const y0 = i * sh - pt;
      for (let j = 0; j < ow; j++) {
        const x0 = j * sw - pl;
        let p = ((b * oh + i) * ow + j) * taps;
        for (let r = 0; r < fh; r++) {
          const y = y0 + r;
          if (y < 0 || y >= h) {
            p += fw * ci;
            continue;
          }
          const rowBase = imageBase + y * rowStride;
          if (x0 >= 0 && x0 + fw <= w) {
            // The whole filter row is inside the image: one contiguous run in both arrays.
            const xi = rowBase + x0 * ci;
            const run = fw * ci;
            if (gather) {
              for (let k = 0; k < run; k++) patch[p + k] = image[xi + k] as number;
            } else {
              for (let k = 0; k < run; k++) image[xi + k] = (image[xi + k] as number) + (patch[p + k] as number);
            }
            p += run;
            continue;
          }
          for (let c = 0; c < fw; c++, p += ci) {
            const x = x0 + c;
            if (x < 0 || x >= w) continue;
            const xi = rowBase + x * ci;
            if (gather) {
              for (let ch = 0; ch < ci; ch++) patch[p + ch] = image[xi + ch] as number;
            } else {
              for (let ch = 0; ch < ci; ch++) image[xi + ch] = (image[xi + ch] as number) + (patch[p + ch] as number);
            }
          }
        }
      }
    }
  }
}

/** P as a [M, fh·fw·ci] float32 tensor. */
export function patchMatrix(backend: BackendWasm, x: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.Tensor2D {
  const g = geometry(info);
  const rows = g.n * g.oh * g.ow;
  const taps = g.fh * g.fw * g.ci;
  // Allocate first: allocation may grow the wasm memory, which detaches earlier heap views.
  const out = backend.makeOutput([rows, taps], 'float32');
  const p = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  if (g.pt > 0 || g.pl > 0 || (g.oh - 1) * g.sh + g.fh > g.h + g.pt || (g.ow - 1) * g.sw + g.fw > g.w + g.pl) p.fill(0);
  patches(g, true, p, xv);
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
}

export function conv2dBackpropInputCol2im(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const [n, oh, ow, co] = dy.shape as Shape4;
  const [fh, fw, ci] = filter.shape as Shape4;
  const taps = fh * fw * ci;
  // [M, co] · [taps, co]^T: the BatchMatMul replacement transposes the (small) filter first.
  const col = tf.tidy(() =>
    tf.matMul(tf.reshape(asTensor(dy), [n * oh * ow, co]), tf.reshape(asTensor(filter), [taps, co]), false, true),
  );
  try {
    const out = backend.makeOutput([info.batchSize, info.inHeight, info.inWidth, ci], 'float32');
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    const cv = backend.typedArrayFromHeap(col) as Float32Array;
    dx.fill(0);
    patches(geometry(info), false, cv, dx);
    return out;
  } finally {
    col.dispose();
  }
}

/** Rows per block of transposeOnHeap: the block's reads stay in cache while its columns are written. */
const TRANSPOSE_BLOCK = 16;

/** The transpose of a row-major [rows, cols] float32 matrix on the wasm heap. */
function transposeOnHeap(backend: BackendWasm, a: tf.TensorInfo, rows: number, cols: number): tf.Tensor2D {
  const out = backend.makeOutput([cols, rows], 'float32');
  const t = backend.typedArrayFromHeap(out) as Float32Array;
  const v = backend.typedArrayFromHeap(a) as Float32Array;
  for (let r0 = 0; r0 < rows; r0 += TRANSPOSE_BLOCK) {
    const r1 = Math.min(rows, r0 + TRANSPOSE_BLOCK);
    for (let c = 0; c < cols; c++) {
      const base = c * rows;
      for (let r = r0; r < r1; r++) t[base + r] = v[r * cols + c] as number;
    }
  }
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
}

export function conv2dBackpropFilterPatches(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  const [n, oh, ow, co] = dy.shape as Shape4;
  const { filterHeight: fh, filterWidth: fw, inChannels: ci } = info;
  return tf.tidy(() => {
    const p = patchMatrix(backend, x, info);
    const dyT = transposeOnHeap(backend, dy, n * oh * ow, co);
    return tf.reshape(tf.transpose(tf.matMul(dyT, p)), [fh, fw, ci, co]);
  });
}

/** Output channels the SIMD filter gradient takes per pass: it needs a multiple. */
const DIRECT_CHANNELS = 16;

/**
 * dW by the SIMD kernel conv_filter_grad (simd-kernels.wat): one pass over dy, every tap summed
 * straight into dW, for inputs with few channels — on the MNIST CNN's first layer 1.4 ms instead
 * of the 10 ms of the patch matrix, dy's transpose and a 9-column GEMM above (issue 21).
 * Undefined where the kernel does not apply (no SIMD here, or co not a multiple of 16).
 */
export function conv2dBackpropFilterDirect(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo | undefined {
  const simd = simdKernels(backend);
  const co = info.outChannels;
  if (simd === undefined || co % DIRECT_CHANNELS !== 0) return undefined;
  const g = geometry(info);
  // The kernel reads no bounds: write the padding out, and enough rows and columns for every window.
  const bottom = Math.max(0, (g.oh - 1) * g.sh + g.fh - g.h - g.pt);
  const right = Math.max(0, (g.ow - 1) * g.sw + g.fw - g.w - g.pl);
  const padded = g.pt + bottom + g.pl + right > 0 ? tf.pad(asTensor(x), [[0, 0], [g.pt, bottom], [g.pl, right], [0, 0]]) : undefined;
  try {
    const xp: tf.TensorInfo = padded ?? x;
    const out = backend.makeOutput([g.fh, g.fw, g.ci, co], 'float32');
    simd.conv_filter_grad(
      heapOffset(backend, xp), heapOffset(backend, dy), heapOffset(backend, out),
      g.n, g.h + g.pt + bottom, g.w + g.pl + right, g.ci, g.oh, g.ow, co, g.fh, g.fw, g.sh, g.sw,
    );
    return out;
  } finally {
    padded?.dispose();
  }
}
