/**
 * The depthwise-convolution gradients the tfjs 4.22 wasm backend lacks (neither
 * `DepthwiseConv2dNativeBackpropInput` nor `...BackpropFilter` is registered, so no MobileNet /
 * EfficientNet has an input gradient on wasm).
 *
 * Input gradient: like Conv2DBackpropInput (wasm-kernels.ts), a stride-1 *forward* depthwise
 * convolution of the zero-interleaved dy with the spatially flipped filter, at the forward
 * dilation, which the wasm backend runs through XNNPACK. With a channel multiplier m > 1 each
 * input channel collects m output channels: the depthwise conv runs with multiplier 1 over all
 * c·m channels and the m partial results are summed.
 *
 * Filter gradient: one pass over x and dy on the wasm heap, accumulating in float64 (the sums run
 * over N·oh·ow terms). The forward-op alternative (dy as a depthwise filter with oh×ow taps) makes
 * XNNPACK pack a filter as large as dy for a 3×3 output; only training needs this kernel.
 *
 * Both follow the cpu kernels' arithmetic (padding split from computeConv2DInfo) and, unlike the
 * cpu kernels, honour dilations.
 */
import * as tf from '@tensorflow/tfjs';
import { asTensor, callOriginal, isWasmBackend } from './wasm-fallback.js';

type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

export const DEPTHWISE_INPUT_KERNEL = 'DepthwiseConv2dNativeBackpropInput';
export const DEPTHWISE_FILTER_KERNEL = 'DepthwiseConv2dNativeBackpropFilter';

interface DepthwiseAttrs {
  strides: number | [number, number];
  pad: tf.DepthwiseConv2dNativeBackpropInputAttrs['pad'];
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function depthwiseInfo(inShape: Shape4, filterShape: Shape4, a: DepthwiseAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(inShape, filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true, 'channelsLast');
}

/** Zero rows/columns after each element (see zeroInterleave in wasm-kernels.ts); same layout. */
function interleave(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  if (sh === 1 && sw === 1) return t;
  let r = t;
  if (sw > 1) r = tf.reshape(tf.pad(tf.reshape(r, [n * h, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [n, h, w * sw, c]);
  if (sh > 1) {
    const ww = r.shape[2];
    r = tf.reshape(tf.pad(tf.reshape(r, [n, h, 1, ww * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, h * sh, ww, c]);
  }
  return r;
}

/** dx of a depthwise conv via one forward depthwise conv (see the file comment). */
export function depthwiseBackpropInputViaConv(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: Shape4, a: DepthwiseAttrs): tf.Tensor4D {
  const info = depthwiseInfo(inputShape, filter.shape, a);
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, inHeight, inWidth } = info;
  const { effectiveFilterHeight: feh, effectiveFilterWidth: few } = info;
  const { top: pt, left: pl } = info.padInfo;
  const [fh, fw, ci, cm] = filter.shape;
  const [, oh, ow] = dy.shape;
  return tf.tidy(() => {
    let t = interleave(dy, sh, sw);
    // Stride-1 correlation with the flipped (effective) filter: same pad arithmetic as
    // conv2dBackpropInputViaConv, with the dilated filter extent; trailing interleave zeros are
    // taken off the bottom/right pad, and negative pads crop.
    let top = feh - 1 - pt;
    let bottom = inHeight - 1 + pt - (oh - 1) * sh - (sh - 1);
    let left = few - 1 - pl;
    let right = inWidth - 1 + pl - (ow - 1) * sw - (sw - 1);
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      const [n, h, w, c] = t.shape;
      const t0 = Math.max(0, -top);
      const l0 = Math.max(0, -left);
      t = tf.slice(t, [0, t0, l0, 0], [n, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c]);
      [top, bottom, left, right] = [top, bottom, left, right].map((v) => Math.max(0, v)) as [number, number, number, number];
    }
    const pad: ExplicitPad = [[0, 0], [top, bottom], [left, right], [0, 0]];
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [fh, fw, ci * cm, 1]) as tf.Tensor4D;
    const out = tf.depthwiseConv2d(t, flipped, 1, pad, 'NHWC', [dh, dw]);
    if (cm === 1) return out;
    const [n, h, w] = out.shape;
    return tf.sum(tf.reshape(out, [n, h, w, ci, cm]), 4) as tf.Tensor4D;
  });
}

function unsupported(a: tf.NamedAttrMap): string | undefined {
  const dataFormat = a['dataFormat'];
  if (dataFormat !== undefined && dataFormat !== null && dataFormat !== 'NHWC') return `dataFormat '${String(dataFormat)}'`;
  return undefined;
}

export const depthwiseBackpropInputKernel: tf.KernelFunc = (args) => {
  const a = (args.attrs ?? {}) as unknown as DepthwiseAttrs & { inputShape: Shape4 };
  const dy = args.inputs['dy'];
  const filter = args.inputs['filter'];
  const reason = unsupported(args.attrs ?? {});
  if (reason !== undefined) return callOriginal(DEPTHWISE_INPUT_KERNEL, args, reason);
  if (dy === undefined || filter === undefined || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    return callOriginal(DEPTHWISE_INPUT_KERNEL, args, `inputs ${dy?.dtype ?? 'missing'}/${filter?.dtype ?? 'missing'}`);
  }
  return tf.tidy(() => depthwiseBackpropInputViaConv(asTensor(dy) as tf.Tensor4D, asTensor(filter) as tf.Tensor4D, a.inputShape, a));
};

export const depthwiseBackpropFilterKernel: tf.KernelFunc = (args) => {
  const { backend } = args;
  const a = (args.attrs ?? {}) as unknown as DepthwiseAttrs & { filterShape: Shape4 };
  const x = args.inputs['x'];
  const dy = args.inputs['dy'];
  const reason = unsupported(args.attrs ?? {});
  if (reason !== undefined) return callOriginal(DEPTHWISE_FILTER_KERNEL, args, reason);
  if (x === undefined || dy === undefined || x.dtype !== 'float32' || dy.dtype !== 'float32' || !isWasmBackend(backend)) {
    return callOriginal(DEPTHWISE_FILTER_KERNEL, args, `inputs ${x?.dtype ?? 'missing'}/${dy?.dtype ?? 'missing'} or backend`);
  }
  const info = depthwiseInfo(x.shape as Shape4, a.filterShape, a);
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [fh, fw, ci, cm] = a.filterShape;
  const co = ci * cm;
  if (dy.shape[0] !== n || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    return callOriginal(DEPTHWISE_FILTER_KERNEL, args, `dy shape [${dy.shape.join(', ')}]`);
  }
  const { top: pt, left: pl } = info.padInfo;
  const acc = new Float64Array(fh * fw * co);
  // Allocate first: allocation may grow the wasm memory, which detaches earlier heap views.
  const out = backend.makeOutput(a.filterShape, 'float32');
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const dyBase = ((b * oh + i) * ow + j) * co;
        for (let r = 0; r < fh; r++) {
          const y = i * sh + r * dh - pt;
          if (y < 0 || y >= h) continue;
          for (let q = 0; q < fw; q++) {
            const xx = j * sw + q * dw - pl;
            if (xx < 0 || xx >= w) continue;
            const xBase = ((b * h + y) * w + xx) * ci;
            const accBase = (r * fw + q) * co;
            if (cm === 1) {
              for (let c = 0; c < ci; c++) acc[accBase + c] = (acc[accBase + c] as number) + (xv[xBase + c] as number) * (dyv[dyBase + c] as number);
            } else {
              for (let c = 0; c < ci; c++) {
                const xval = xv[xBase + c] as number;
                for (let m = 0; m < cm; m++) {
                  const k = c * cm + m;
                  acc[accBase + k] = (acc[accBase + k] as number) + xval * (dyv[dyBase + k] as number);
                }
              }
            }
          }
        }
      }
    }
  }
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
};
