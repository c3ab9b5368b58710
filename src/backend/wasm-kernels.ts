/**
 * Faster / missing gradient kernels for the tfjs wasm backend (tfjs 4.22).
 *
 * The wasm backend has no `Conv2DBackpropFilter` kernel at all (so a CNN cannot be trained on
 * it) and its `Conv2DBackpropInput` is a naive scalar loop, several times slower than a forward
 * Conv2D of the same size. Both gradients are themselves convolutions (or one matMul), so we
 * re-express them with forward `tf.conv2d` / `tf.matMul`, which the wasm backend runs through
 * XNNPACK (SIMD, packed GEMM); for a first layer (few input channels) Conv2DBackpropInput is a
 * matMul plus a col2im scatter instead, and Conv2DBackpropFilter a patch matrix plus one matMul
 * (wasm-im2col.ts). More kernels on the CNN backward path are replaced too: `MaxPoolGrad` (a
 * SIMD loop over the wasm heap, wasm-max-pool-grad.ts), `BatchMatMul` with
 * transposeA/transposeB (the stock kernel only uses XNNPACK without transposes and otherwise
 * falls back to a scalar triple loop; dense-layer gradients always transpose), `Identity` /
 * same-dtype `Cast` (no copy, wasm-alias-kernels.ts), `Tile` (wasm-tile.ts) and `Sum` over
 * leading axes, i.e. bias gradients (wasm-sum.ts) — each found by profiling the input gradient
 * and the training step (test/bench/profile.ts) and measured with test/bench/ablation.ts.
 *
 * Kernels registered here call public tf ops. That is safe: the engine runs a kernelFunc with
 * `kernelDepth > 0`, so the nested ops are not recorded on the gradient tape; all intermediates
 * live inside a `tf.tidy`, and the returned Tensor is accepted by the engine as the kernel output.
 */
import * as tf from '@tensorflow/tfjs';
import { registerAdamKernel, unregisterAdamKernel } from './wasm-adam.js';
import { registerFusedBiasUnderTape, unregisterFusedBiasUnderTape } from './fused-bias-under-tape.js';
import { registerLazyGradients, unregisterLazyGradients } from './lazy-grads.js';
import { registerRelu6Activation, unregisterRelu6Activation } from './relu6-activation.js';
import { castKernel, identityKernel } from './wasm-alias-kernels.js';
import { clipByValueKernel, relu6Kernel, reluKernel } from './wasm-activations.js';
import { conv2dBackpropFilterDirect, conv2dBackpropFilterPatches, conv2dBackpropInputCol2im } from './wasm-im2col.js';
import {
  asTensor,
  BACKEND,
  callOriginal,
  isWasmBackend,
  originals,
  REPLACED_KERNELS,
  sizeOf,
  type ReplacedKernel,
} from './wasm-fallback.js';
import {
  DEPTHWISE_FILTER_KERNEL,
  DEPTHWISE_INPUT_KERNEL,
  depthwiseBackpropFilterKernel,
  depthwiseBackpropInputKernel,
} from './wasm-depthwise.js';
import { FUSED_MATMUL_KERNEL, fusedMatMulKernel } from './wasm-fused-matmul.js';
import { MAXPOOL_GRAD_KERNEL, maxPoolGradKernel } from './wasm-max-pool-grad.js';
import { sumKernel } from './wasm-sum.js';
import { tileKernel } from './wasm-tile.js';

type Pad = tf.Conv2DBackpropInputAttrs['pad'];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type Strides = tf.Conv2DBackpropInputAttrs['strides'];
type Shape4 = [number, number, number, number];

const INPUT_KERNEL = 'Conv2DBackpropInput';
const FILTER_KERNEL = 'Conv2DBackpropFilter';
const MATMUL_KERNEL = 'BatchMatMul';

/**
 * How `Conv2DBackpropInput` is computed:
 * - 'conv': one stride-1 forward convolution of the zero-interleaved dy with the flipped filter;
 * - 'col2im': one matMul to per-tap columns, then a scatter-add (wasm-im2col.ts);
 * - 'auto' (default): col2im when the forward input has at most 4 channels (the conv would have
 *   that few output channels, which XNNPACK handles badly), conv otherwise (measured on the CNN
 *   shapes with test/bench/ablation.ts: col2im saves ~15 ms on the first layer and costs ~8 ms
 *   on the second).
 */
export type InputGradStrategy = 'auto' | 'conv' | 'col2im';
let inputStrategy: InputGradStrategy = 'auto';

/** Select the Conv2DBackpropInput algorithm (for benchmarks and tests). */
export function setInputGradStrategy(strategy: InputGradStrategy): void {
  inputStrategy = strategy;
}

/** Largest forward-input channel count for which 'auto' uses col2im. */
const COL2IM_MAX_CHANNELS = 4;

/** Largest input channel count for which 'auto' uses the direct filter gradient. */
const DIRECT_MAX_CHANNELS = 4;

/**
 * How `Conv2DBackpropFilter` is computed:
 * - 'conv': one dilated forward convolution (batch and channel axes swapped);
 * - 'im2col': the patch matrix written on the heap + one matMul (wasm-im2col.ts);
 * - 'direct': the SIMD kernel summing each tap into dW (wasm-im2col.ts), where it applies (wasm
 *   SIMD, output channels a multiple of 16), else as 'auto';
 * - 'auto' (default): direct for inputs with at most 4 channels; else im2col for stride 1 with
 *   few input channels (<= 8) or a 1x1 filter, where the conv formulation has a huge filter and
 *   few output rows, which XNNPACK handles badly; conv otherwise (measured on the CNN shapes, see
 *   test/bench/kernels.ts).
 */
export type FilterGradStrategy = 'auto' | 'conv' | 'im2col' | 'direct';
let filterStrategy: FilterGradStrategy = 'auto';

/** Select the Conv2DBackpropFilter algorithm (for benchmarks and tests). */
export function setFilterGradStrategy(strategy: FilterGradStrategy): void {
  filterStrategy = strategy;
}

// ---------------------------------------------------------------------------------------------
// helpers

function asTensor4D(info: tf.TensorInfo): tf.Tensor4D {
  return asTensor(info) as tf.Tensor4D;
}

function pair(v: number | [number, number] | readonly number[] | undefined, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? fallback, v[1] ?? v[0] ?? fallback];
}

/**
 * Returns a reason string if these attrs are outside what the replacements handle, else
 * undefined. NHWC, no dilations, no dimRoundingMode.
 */
function unsupported(attrs: tf.NamedAttrMap): string | undefined {
  const dataFormat = attrs['dataFormat'];
  if (dataFormat !== undefined && dataFormat !== null && dataFormat !== 'NHWC') {
    return `dataFormat '${String(dataFormat)}' (only 'NHWC' is supported)`;
  }
  const dimRoundingMode = attrs['dimRoundingMode'];
  if (dimRoundingMode !== undefined && dimRoundingMode !== null) {
    return `dimRoundingMode '${String(dimRoundingMode)}' (only the default truncation is supported)`;
  }
  const dilations = attrs['dilations'];
  if (dilations !== undefined && dilations !== null) {
    const [dh, dw] = pair(dilations as number | number[], 1);
    if (dh !== 1 || dw !== 1) return `dilations [${dh}, ${dw}] (only 1 is supported)`;
  }
  return undefined;
}

/**
 * Explicit padding of a spatial tensor by (top, bottom, left, right), any of which may be
 * negative (= crop). Positive amounts are returned for the conv's own explicit padding (free in
 * XNNPACK); negative amounts are applied here with a slice.
 */
function cropNegative(
  t: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): { t: tf.Tensor4D; pad: ExplicitPad } {
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = t.shape;
    const t0 = Math.max(0, -top);
    const l0 = Math.max(0, -left);
    const hh = h - t0 - Math.max(0, -bottom);
    const ww = w - l0 - Math.max(0, -right);
    t = tf.slice(t, [0, t0, l0, 0], [n, hh, ww, c]);
  }
  return {
    t,
    pad: [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ],
  };
}

/**
 * Inserts (sh-1) zero rows after every row and (sw-1) zero columns after every column:
 * [N, H, W, C] -> [N, H*sh, W*sw, C]. The result has (sh-1) / (sw-1) trailing zero rows/cols
 * beyond the mathematically dilated size (H-1)*sh+1; callers account for them.
 */
function zeroInterleave(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  if (sh === 1 && sw === 1) return t;
  // Pad a singleton axis after each spatial axis, then fold it back in: element (i, j) lands at
  // (i*sh, j*sw) and everything else is zero.
  if (sw === 1) {
    const r = tf.reshape(t, [n, h, 1, w * c]);
    return tf.reshape(tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, h * sh, w, c]);
  }
  const r = tf.reshape(t, [n * h, w, 1, c]);
  const cols = tf.reshape(tf.pad(r, [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [n, h, 1, w * sw * c]);
  if (sh === 1) return tf.reshape(cols, [n, h, w * sw, c]);
  return tf.reshape(tf.pad(cols, [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, h * sh, w * sw, c]);
}

function convInfo(inShape: Shape4, filterShape: Shape4, strides: Strides, pad: Pad): tf.backend_util.Conv2DInfo {
  // Same call the cpu/wasm kernels make, so the padding arithmetic (SAME split, explicit pads,
  // truncation) is exactly theirs.
  return tf.backend_util.computeConv2DInfo(inShape, filterShape, strides, 1, pad, undefined, false, 'channelsLast');
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput

/**
 * W[fh−1−r, fw−1−c, i, o] at [r, c, o, i]: the flipped, channel-swapped filter in one pass over
 * its values. Filters are small (18k values for the MNIST CNN's second layer), and wasm's Reverse
 * took 0.9 ms of a 31 ms input gradient on that one (issue 21).
 */
function flipTranspose(filter: tf.Tensor4D): tf.Tensor4D {
  const [fh, fw, ci, co] = filter.shape;
  const w = filter.dataSync() as Float32Array;
  const out = new Float32Array(w.length);
  for (let r = 0; r < fh; r++) {
    for (let c = 0; c < fw; c++) {
      const from = ((fh - 1 - r) * fw + (fw - 1 - c)) * ci * co;
      const to = (r * fw + c) * co * ci;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[to + o * ci + i] = w[from + i * co + o] as number;
    }
  }
  return tf.tensor4d(out, [fh, fw, co, ci]);
}

/**
 * dx for y = conv2d(x, W, stride s, pads (pt, pl)).
 *
 * Forward: y[i] = sum_r xpad[i*s + r] W[r]  with xpad[p] = x[p - pt]   (1-D notation per axis).
 * So dx[h] = sum_{i,r : i*s + r - pt = h} dy[i] W[r]. Put dy on the stride grid (dyd[i*s] = dy[i],
 * zeros between), then dx[h] = sum_r dyd[h + pt - r] W[r] = sum_r' dyd[h - (fh-1-pt) + r'] Wf[r']
 * with r' = fh-1-r: a stride-1 correlation (= tf.conv2d) of dyd, padded by fh-1-pt on top, with
 * the spatially flipped filter. Channels: the sum runs over the forward *output* channel, so the
 * filter's in/out channel axes are swapped. Bottom padding makes the output exactly inHeight
 * rows: (inH + fh - 1) - ((oh-1)*s + 1) - (fh-1-pt) = inH - 1 + pt - (oh-1)*s; either padding can
 * be negative with large explicit pads, which means crop.
 */
export function conv2dBackpropInputViaConv(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: Shape4,
  strides: Strides,
  pad: Pad,
): tf.Tensor4D {
  const info = convInfo(inputShape, filter.shape, strides, pad);
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth } = info;
  const { top: pt, left: pl } = info.padInfo;
  const [, oh, ow] = dy.shape;
  return tf.tidy(() => {
    const dyd = zeroInterleave(dy, sh, sw);
    // zeroInterleave leaves (s-1) extra trailing zeros; subtract them from the bottom/right pad.
    const top = fh - 1 - pt;
    const bottom = inHeight - 1 + pt - (oh - 1) * sh - (sh - 1);
    const left = fw - 1 - pl;
    const right = inWidth - 1 + pl - (ow - 1) * sw - (sw - 1);
    const { t, pad: explicit } = cropNegative(dyd, top, bottom, left, right);
    // [fh, fw, in, out] -> flipped, [fh, fw, out, in]. A 1×1 filter is its own flip: no Reverse
    // (34 of the 51 Reverse kernels of a MobileNetV2 input gradient, ~12% of its time; issue 21).
    const wT = fh === 1 && fw === 1 ? tf.transpose(filter, [0, 1, 3, 2]) : flipTranspose(filter);
    return tf.conv2d(t, wT, 1, explicit, 'NHWC');
  });
}

const backpropInputKernel: tf.KernelFunc = (args) => {
  const a = (args.attrs ?? {}) as tf.NamedAttrMap;
  const dyInfo = args.inputs['dy'];
  const filterInfo = args.inputs['filter'];
  // Anything we do not cover goes to the stock wasm kernel (slow but correct).
  const reason = unsupported(a);
  if (reason !== undefined) return callOriginal(INPUT_KERNEL, args, reason);
  if (dyInfo === undefined || filterInfo === undefined) return callOriginal(INPUT_KERNEL, args, 'inputs');
  if (dyInfo.dtype !== 'float32' || filterInfo.dtype !== 'float32') return callOriginal(INPUT_KERNEL, args, `dtype ${dyInfo.dtype}`);
  const { strides, pad, inputShape } = a as unknown as tf.Conv2DBackpropInputAttrs;
  const ci = inputShape[3];
  const col2im = inputStrategy === 'col2im' || (inputStrategy === 'auto' && ci <= COL2IM_MAX_CHANNELS);
  const { backend } = args;
  if (col2im && isWasmBackend(backend)) {
    const info = convInfo(inputShape, filterInfo.shape as Shape4, strides, pad);
    return conv2dBackpropInputCol2im(backend, dyInfo, filterInfo, info);
  }
  return tf.tidy(() =>
    conv2dBackpropInputViaConv(asTensor4D(dyInfo), asTensor4D(filterInfo), inputShape, strides, pad),
  );
};

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter

/**
 * dW[r, c, ci, co] = sum_{b, i, j} xpad[b, i*s + r, j*s + c, ci] * dy[b, i, j, co].
 *
 * Read with ci as the "batch" axis and b as the "channel" axis this is a forward convolution:
 * input xpad^T [ci, H, W, b], filter dy^T [oh, ow, b, co] with *dilation* s (the dy taps sit s
 * pixels apart in x), stride 1; output [ci, fh, fw, co] -> transpose to [fh, fw, ci, co].
 * The padded input must span exactly (oh-1)*s + fh rows so the output has fh rows; x rows that no
 * window touched (truncation) are cropped via a negative bottom pad.
 */
export function conv2dBackpropFilterViaConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  strides: Strides,
  pad: Pad,
): tf.Tensor4D {
  const info = convInfo(x.shape, filterShape, strides, pad);
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth } = info;
  const { top: pt, left: pl } = info.padInfo;
  const [, oh, ow] = dy.shape;
  return tf.tidy(() => {
    const bottom = (oh - 1) * sh + fh - inHeight - pt;
    const right = (ow - 1) * sw + fw - inWidth - pl;
    const xT = tf.transpose(x, [3, 1, 2, 0]); // [ci, H, W, N]
    const { t, pad: explicit } = cropNegative(xT, pt, bottom, pl, right);
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [oh, ow, N, co]
    const out = tf.conv2d(t, dyT, 1, explicit, 'NHWC', [sh, sw]); // [ci, fh, fw, co]
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/**
 * Same quantity via the patch matrix (im2col): (dyᵀ · P)ᵀ, see wasm-im2col.ts. Needs the wasm
 * backend (P is written on its heap).
 */
export function conv2dBackpropFilterIm2col(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  strides: Strides,
  pad: Pad,
): tf.Tensor4D {
  const backend = tf.backend();
  if (!isWasmBackend(backend)) throw new Error('conv2dBackpropFilterIm2col runs on the wasm backend only');
  return conv2dBackpropFilterPatches(backend, x, dy, convInfo(x.shape, filterShape, strides, pad));
}

/** The 'auto' choice; see FilterGradStrategy. */
function useIm2col(xShape: readonly number[], filterShape: Shape4, strides: Strides): boolean {
  if (filterStrategy !== 'auto' && filterStrategy !== 'direct') return filterStrategy === 'im2col';
  const [sh, sw] = pair(strides, 1);
  const ci = xShape[3] ?? 0;
  return sh === 1 && sw === 1 && (ci <= 8 || filterShape[0] * filterShape[1] === 1);
}

const backpropFilterKernel: tf.KernelFunc = (args) => {
  const { inputs, attrs } = args;
  const a = (attrs ?? {}) as tf.NamedAttrMap;
  const reason = unsupported(a);
  if (reason !== undefined) {
    // tfjs-backend-wasm 4.22 has no kernel to fall back to: callOriginal then throws, naming the
    // attribute, rather than returning something wrong.
    return callOriginal(FILTER_KERNEL, args, reason);
  }
  const { strides, pad, filterShape } = a as unknown as tf.Conv2DBackpropFilterAttrs;
  const xInfo = inputs['x'];
  const dyInfo = inputs['dy'];
  if (xInfo === undefined || dyInfo === undefined) {
    throw new Error(`${FILTER_KERNEL} on wasm: missing input x or dy`);
  }
  if (xInfo.dtype !== 'float32' || dyInfo.dtype !== 'float32') return callOriginal(FILTER_KERNEL, args, `dtype ${xInfo.dtype}`);
  const { backend } = args;
  if (isWasmBackend(backend)) {
    const info = convInfo(xInfo.shape as Shape4, filterShape, strides, pad);
    const tryDirect = filterStrategy === 'direct' || (filterStrategy === 'auto' && info.inChannels <= DIRECT_MAX_CHANNELS);
    const direct = tryDirect ? conv2dBackpropFilterDirect(backend, xInfo, dyInfo, info) : undefined;
    if (direct !== undefined) return direct;
    if (useIm2col(xInfo.shape, filterShape, strides)) return conv2dBackpropFilterPatches(backend, xInfo, dyInfo, info);
  }
  return tf.tidy(() => conv2dBackpropFilterViaConv(asTensor4D(xInfo), asTensor4D(dyInfo), filterShape, strides, pad));
};

// ---------------------------------------------------------------------------------------------
// BatchMatMul with transposes

/**
 * a^T b, a b^T, a^T b^T for a single (batch 1) matrix pair: transpose explicitly, then run the
 * untransposed product, which the stock kernel sends to XNNPACK. Batched products go to the
 * stock kernel unchanged.
 */
const batchMatMulKernel: tf.KernelFunc = (args) => {
  const { inputs, attrs } = args;
  const a = inputs['a'];
  const b = inputs['b'];
  const { transposeA, transposeB } = (attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  if (
    a === undefined ||
    b === undefined ||
    (!transposeA && !transposeB) ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    a.shape.length < 2 ||
    b.shape.length < 2 ||
    sizeOf(a.shape.slice(0, -2)) !== 1 ||
    sizeOf(b.shape.slice(0, -2)) !== 1
  ) {
    return callOriginal(MATMUL_KERNEL, args, 'batched or untransposed product');
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return tf.tidy(() => {
    const a2 = tf.reshape(asTensor(a), [ar, ac]);
    const b2 = tf.reshape(asTensor(b), [br, bc]);
    // Nested matMul without transposes: dispatches back here and on to the stock kernel.
    const prod = tf.matMul(transposeA ? tf.transpose(a2) : a2, transposeB ? tf.transpose(b2) : b2);
    return tf.reshape(prod, [...outer, ...prod.shape]);
  });
};

// ---------------------------------------------------------------------------------------------
// registration

const replacements: Record<ReplacedKernel, tf.KernelFunc> = {
  [INPUT_KERNEL]: backpropInputKernel,
  [FILTER_KERNEL]: backpropFilterKernel,
  [MAXPOOL_GRAD_KERNEL]: maxPoolGradKernel,
  [MATMUL_KERNEL]: batchMatMulKernel,
  Identity: identityKernel,
  Cast: castKernel,
  Tile: tileKernel,
  Sum: sumKernel,
  [DEPTHWISE_INPUT_KERNEL]: depthwiseBackpropInputKernel,
  [DEPTHWISE_FILTER_KERNEL]: depthwiseBackpropFilterKernel,
  [FUSED_MATMUL_KERNEL]: fusedMatMulKernel,
  Relu: reluKernel,
  Relu6: relu6Kernel,
  ClipByValue: clipByValueKernel,
};

/** Kernels tfjs-backend-wasm 4.22 does not have at all: ours are the only implementation. */
const ADDED_KERNELS: readonly ReplacedKernel[] = [FILTER_KERNEL, DEPTHWISE_INPUT_KERNEL, DEPTHWISE_FILTER_KERNEL];

function isOurs(name: ReplacedKernel): boolean {
  return tf.getKernel(name, BACKEND)?.kernelFunc === replacements[name];
}

/** Which optional replacements to install (the two conv gradients are always installed). */
export interface WasmGradKernelOptions {
  /** Replace MaxPoolGrad (default true). */
  maxPoolGrad?: boolean;
  /** Replace BatchMatMul for transposed operands (default true). */
  matMul?: boolean;
  /** Identity and same-dtype Cast share the buffer instead of copying it (default true). */
  aliases?: boolean;
  /** Replace Tile with block copies (default true). */
  tile?: boolean;
  /** Replace Sum over leading axes (bias gradients) with an average pooling (default true). */
  sum?: boolean;
  /**
   * Gradient configs that compute only the requested gradients (fused conv/depthwise/matMul,
   * batch norm) and one-kernel Relu6/ClipByValue gradients, lazy-grads.ts (default true).
   */
  lazyGradients?: boolean;
  /**
   * Conv, depthwise and dense layers keep their bias in the fused kernel while a gradient is
   * recorded (tfjs adds it with a separate broadcast Add there), fused-bias-under-tape.ts
   * (default true; needs lazyGradients, whose configs differentiate the fused ops).
   */
  fusedBias?: boolean;
  /** tf.layers' 'relu6' activation as the one Relu6 kernel, relu6-activation.ts (default true). */
  relu6?: boolean;
  /** Relu, Relu6 and ClipByValue as SIMD loops, wasm-activations.ts (default true). */
  activations?: boolean;
  /** Adam's update of a variable as one kernel, wasm-adam.ts (default true). */
  adam?: boolean;
}

function install(name: ReplacedKernel): void {
  if (isOurs(name)) return;
  const current = tf.getKernel(name, BACKEND);
  if (current === undefined && !ADDED_KERNELS.includes(name)) {
    throw new Error(
      `registerWasmGradKernels: no wasm ${name} kernel is registered; import '@tensorflow/tfjs-backend-wasm' first`,
    );
  }
  originals.set(name, current);
  const config: tf.KernelConfig = { kernelName: name, backendName: BACKEND, kernelFunc: replacements[name] };
  if (current !== undefined) {
    tf.unregisterKernel(name, BACKEND);
    // The original's setupFunc binds its wasm function (needed by our fallbacks); it only runs at
    // backend initialisation, so keep it on our config in case the wasm backend is not up yet.
    if (current.setupFunc !== undefined) config.setupFunc = current.setupFunc;
    if (current.disposeFunc !== undefined) config.disposeFunc = current.disposeFunc;
  }
  tf.registerKernel(config);
}

/**
 * Replaces the wasm `Conv2DBackpropInput`, adds the missing wasm `Conv2DBackpropFilter`, and (by
 * default) replaces `MaxPoolGrad`, transposed `BatchMatMul`, `Identity`, same-dtype `Cast`, `Tile`,
 * leading-axes `Sum`, and float32 `Relu` / `Relu6` / `ClipByValue`; each falls back to the stock
 * kernel for what it does not cover.
 * Idempotent. Registers for backendName 'wasm' whatever the active backend is, but
 * `@tensorflow/tfjs-backend-wasm` must have been imported (it registers the originals we fall
 * back to).
 */
export function registerWasmGradKernels(options: WasmGradKernelOptions = {}): void {
  install(INPUT_KERNEL);
  install(FILTER_KERNEL);
  install(DEPTHWISE_INPUT_KERNEL);
  install(DEPTHWISE_FILTER_KERNEL);
  // A correctness fix (transposed operands with a bias), not an option.
  install(FUSED_MATMUL_KERNEL);
  if (options.maxPoolGrad ?? true) install(MAXPOOL_GRAD_KERNEL);
  if (options.matMul ?? true) install(MATMUL_KERNEL);
  if (options.aliases ?? true) {
    install('Identity');
    install('Cast');
  }
  if (options.tile ?? true) install('Tile');
  if (options.sum ?? true) install('Sum');
  if (options.lazyGradients ?? true) {
    registerLazyGradients();
    if (options.fusedBias ?? true) registerFusedBiasUnderTape();
  }
  if (options.relu6 ?? true) registerRelu6Activation();
  if (options.activations ?? true) {
    install('Relu');
    install('Relu6');
    install('ClipByValue');
  }
  if (options.adam ?? true) registerAdamKernel();
}

/** Restores whatever was registered before `registerWasmGradKernels` (for benchmarks/tests). */
export function unregisterWasmGradKernels(): void {
  for (const name of REPLACED_KERNELS) {
    if (!isOurs(name)) continue;
    tf.unregisterKernel(name, BACKEND);
    const original = originals.get(name);
    if (original !== undefined) tf.registerKernel(original);
  }
  unregisterFusedBiasUnderTape();
  unregisterAdamKernel();
  unregisterLazyGradients();
  unregisterRelu6Activation();
}

/** True when our conv-gradient kernels are the ones currently registered for wasm. */
export function wasmGradKernelsRegistered(): boolean {
  return isOurs(INPUT_KERNEL) && isOurs(FILTER_KERNEL);
}
