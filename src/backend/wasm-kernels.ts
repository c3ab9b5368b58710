/**
 * Faster / missing convolution-gradient kernels for the tfjs wasm backend (tfjs 4.22).
 *
 * The wasm backend has no `Conv2DBackpropFilter` kernel at all (so a CNN cannot be trained on
 * it) and its `Conv2DBackpropInput` is a naive scalar loop, ~10x slower than a forward Conv2D of
 * the same size. Both gradients are themselves convolutions, so we re-express them as forward
 * `tf.conv2d` calls, which the wasm backend runs through XNNPACK (SIMD, packed GEMM).
 *
 * Kernels registered here call public tf ops. That is safe: the engine runs a kernelFunc with
 * `kernelDepth > 0`, so the nested ops are not recorded on the gradient tape; all intermediates
 * live inside a `tf.tidy`, and the returned Tensor is accepted by the engine as the kernel output.
 */
import * as tf from '@tensorflow/tfjs';

type Pad = tf.Conv2DBackpropInputAttrs['pad'];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type Strides = tf.Conv2DBackpropInputAttrs['strides'];
type Shape4 = [number, number, number, number];

const BACKEND = 'wasm';
const INPUT_KERNEL = 'Conv2DBackpropInput';
const FILTER_KERNEL = 'Conv2DBackpropFilter';

/** The wasm backend's own Conv2DBackpropInput, kept for the cases we do not cover. */
let originalInput: tf.KernelConfig | undefined;
/** Whatever was registered for Conv2DBackpropFilter before us (nothing in tfjs 4.22). */
let originalFilter: tf.KernelConfig | undefined;

/**
 * How `Conv2DBackpropFilter` is computed:
 * - 'conv': one dilated forward convolution (batch and channel axes swapped) — the default;
 * - 'im2col': strided-slice patches + one matMul (kept for benchmarking; slower on wasm).
 */
export type FilterGradStrategy = 'conv' | 'im2col';
let filterStrategy: FilterGradStrategy = 'conv';

/** Select the Conv2DBackpropFilter algorithm (for benchmarks and tests). */
export function setFilterGradStrategy(strategy: FilterGradStrategy): void {
  filterStrategy = strategy;
}

// ---------------------------------------------------------------------------------------------
// helpers

/** Kernel inputs are normally Tensors; wrap a bare TensorInfo (tracked, so a tidy disposes it). */
function asTensor4D(info: tf.TensorInfo): tf.Tensor4D {
  const t = info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
  return t as tf.Tensor4D;
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
    // [fh, fw, in, out] -> flipped, [fh, fw, out, in]
    const wT = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(t, wT, 1, explicit, 'NHWC');
  });
}

/**
 * dx for stride 1 via col2im: cols = dy [M, co] @ W^T [co, fh*fw*ci] gives, for every output
 * pixel and filter tap (r, c), the contribution that tap sends to input pixel (i + r - pt,
 * j + c - pl). Each tap's plane is shifted into place with a pad (negative = crop) and the planes
 * are summed. Cheaper than the flipped-filter conv when ci is small, because XNNPACK handles a
 * convolution with very few output channels (ci) poorly.
 */
export function conv2dBackpropInputCol2im(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: Shape4,
  strides: Strides,
  pad: Pad,
): tf.Tensor4D {
  const info = convInfo(inputShape, filter.shape, strides, pad);
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth, inChannels: ci } = info;
  if (sh !== 1 || sw !== 1) throw new Error('conv2dBackpropInputCol2im: stride 1 only');
  const { top: pt, left: pl } = info.padInfo;
  const [n, oh, ow, co] = dy.shape;
  return tf.tidy(() => {
    const wMat = tf.reshape(tf.transpose(filter, [3, 0, 1, 2]), [co, fh * fw * ci]);
    const cols = tf.reshape(tf.matMul(tf.reshape(dy, [n * oh * ow, co]), wMat), [n, oh, ow, fh * fw * ci]);
    const planes: tf.Tensor4D[] = [];
    for (let r = 0; r < fh; r++) {
      for (let c = 0; c < fw; c++) {
        const tap = r * fw + c;
        const plane = fh * fw === 1 ? cols : tf.slice(cols, [0, 0, 0, tap * ci], [n, oh, ow, ci]);
        // output pixel i of this tap lands on input row i + r - pt
        const top = r - pt;
        const left = c - pl;
        const { t, pad: explicit } = cropNegative(plane, top, inHeight - top - oh, left, inWidth - left - ow);
        planes.push(explicit.some(([a, b]) => a !== 0 || b !== 0) ? tf.pad(t, explicit) : t);
      }
    }
    return planes.length === 1 ? tf.clone(planes[0]!) : tf.addN(planes);
  });
}

const backpropInputKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const a = (attrs ?? {}) as tf.NamedAttrMap;
  if (unsupported(a) !== undefined) {
    if (originalInput === undefined) {
      throw new Error(`${INPUT_KERNEL} (wasm replacement): unsupported ${unsupported(a)} and no original kernel`);
    }
    return originalInput.kernelFunc({ inputs, attrs, backend });
  }
  const { strides, pad, inputShape } = a as unknown as tf.Conv2DBackpropInputAttrs;
  const dyInfo = inputs['dy'];
  const filterInfo = inputs['filter'];
  if (dyInfo === undefined || filterInfo === undefined) {
    throw new Error(`${INPUT_KERNEL} (wasm replacement): missing input dy or filter`);
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
 * Same quantity via im2col: dW = P^T @ dy with P^T [fh*fw*ci, N*oh*ow] (one strided slice of x per
 * filter tap) and dy as [N*oh*ow, co]. P^T is built directly (x transposed once to [ci, N, H, W])
 * because the wasm BatchMatMul is only fast (XNNPACK) without transposeA/transposeB.
 */
export function conv2dBackpropFilterIm2col(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  strides: Strides,
  pad: Pad,
): tf.Tensor4D {
  const info = convInfo(x.shape, filterShape, strides, pad);
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth } = info;
  const { top: pt, left: pl } = info.padInfo;
  const [n, oh, ow, co] = dy.shape;
  const ci = x.shape[3];
  const m = n * oh * ow;
  return tf.tidy(() => {
    const bottom = (oh - 1) * sh + fh - inHeight - pt;
    const right = (ow - 1) * sw + fw - inWidth - pl;
    const { t, pad: explicit } = cropNegative(x, pt, bottom, pl, right);
    const xp = explicit.some(([a, b]) => a !== 0 || b !== 0) ? tf.pad(t, explicit) : t;
    const [, hp, wp] = xp.shape;
    const xT = ci === 1 ? tf.reshape(xp, [1, n, hp, wp]) : tf.transpose(xp, [3, 0, 1, 2]); // [ci, N, Hp, Wp]
    const taps: tf.Tensor2D[] = [];
    for (let r = 0; r < fh; r++) {
      for (let c = 0; c < fw; c++) {
        const tap =
          sh === 1 && sw === 1
            ? tf.slice(xT, [0, 0, r, c], [ci, n, oh, ow])
            : tf.stridedSlice(xT, [0, 0, r, c], [ci, n, r + (oh - 1) * sh + 1, c + (ow - 1) * sw + 1], [1, 1, sh, sw]);
        taps.push(tf.reshape(tap, [ci, m]));
      }
    }
    const pT = taps.length === 1 ? taps[0]! : tf.concat(taps, 0); // [fh*fw*ci, M]
    const dW = tf.matMul(pT, tf.reshape(dy, [m, co])); // [fh*fw*ci, co]
    return tf.reshape(dW, [fh, fw, ci, co]);
  });
}

const backpropFilterKernel: tf.KernelFunc = ({ inputs, attrs }) => {
  const a = (attrs ?? {}) as tf.NamedAttrMap;
  const reason = unsupported(a);
  if (reason !== undefined) {
    throw new Error(`${FILTER_KERNEL} on wasm: unsupported ${reason}`);
  }
  const { strides, pad, filterShape } = a as unknown as tf.Conv2DBackpropFilterAttrs;
  const xInfo = inputs['x'];
  const dyInfo = inputs['dy'];
  if (xInfo === undefined || dyInfo === undefined) {
    throw new Error(`${FILTER_KERNEL} (wasm replacement): missing input x or dy`);
  }
  const impl = filterStrategy === 'im2col' ? conv2dBackpropFilterIm2col : conv2dBackpropFilterViaConv;
  return tf.tidy(() => impl(asTensor4D(xInfo), asTensor4D(dyInfo), filterShape, strides, pad));
};

// ---------------------------------------------------------------------------------------------
// registration

function isOurs(config: tf.KernelConfig | undefined, fn: tf.KernelFunc): boolean {
  return config !== undefined && config.kernelFunc === fn;
}

/**
 * Replaces the wasm `Conv2DBackpropInput` and adds the missing wasm `Conv2DBackpropFilter`.
 * Idempotent. Registration is for backendName 'wasm' regardless of the active backend, but the
 * `@tensorflow/tfjs-backend-wasm` package must have been imported (it registers the originals).
 */
export function registerWasmGradKernels(): void {
  const currentInput = tf.getKernel(INPUT_KERNEL, BACKEND);
  if (!isOurs(currentInput, backpropInputKernel)) {
    if (currentInput === undefined) {
      throw new Error(
        `registerWasmGradKernels: no wasm ${INPUT_KERNEL} kernel is registered; import '@tensorflow/tfjs-backend-wasm' first`,
      );
    }
    originalInput = currentInput;
    tf.unregisterKernel(INPUT_KERNEL, BACKEND);
    const config: tf.KernelConfig = { kernelName: INPUT_KERNEL, backendName: BACKEND, kernelFunc: backpropInputKernel };
    // The original's setupFunc binds its wasm function; it only runs at backend initialisation,
    // so keep it on our config in case the wasm backend has not been initialised yet (fallback).
    if (currentInput.setupFunc !== undefined) config.setupFunc = currentInput.setupFunc;
    if (currentInput.disposeFunc !== undefined) config.disposeFunc = currentInput.disposeFunc;
    tf.registerKernel(config);
  }
  const currentFilter = tf.getKernel(FILTER_KERNEL, BACKEND);
  if (!isOurs(currentFilter, backpropFilterKernel)) {
    if (currentFilter !== undefined) {
      originalFilter = currentFilter;
      tf.unregisterKernel(FILTER_KERNEL, BACKEND);
    }
    tf.registerKernel({ kernelName: FILTER_KERNEL, backendName: BACKEND, kernelFunc: backpropFilterKernel });
  }
}

/** Restores whatever was registered before `registerWasmGradKernels` (for benchmarks/tests). */
export function unregisterWasmGradKernels(): void {
  if (isOurs(tf.getKernel(INPUT_KERNEL, BACKEND), backpropInputKernel)) {
    tf.unregisterKernel(INPUT_KERNEL, BACKEND);
    if (originalInput !== undefined) tf.registerKernel(originalInput);
  }
  if (isOurs(tf.getKernel(FILTER_KERNEL, BACKEND), backpropFilterKernel)) {
    tf.unregisterKernel(FILTER_KERNEL, BACKEND);
    if (originalFilter !== undefined) tf.registerKernel(originalFilter);
  }
}

/** True when our kernels are the ones currently registered for wasm. */
export function wasmGradKernelsRegistered(): boolean {
  return (
    isOurs(tf.getKernel(INPUT_KERNEL, BACKEND), backpropInputKernel) &&
    isOurs(tf.getKernel(FILTER_KERNEL, BACKEND), backpropFilterKernel)
  );
}
