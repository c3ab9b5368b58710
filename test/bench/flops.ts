/**
 * How much arithmetic a compute-bound kernel call does, from its input shapes and attributes, so
 * that the profiler (kernel-profile.ts, profile.ts) can print achieved GFLOP/s next to self time
 * and the ceiling bench (ceiling.ts) can compare them with what the machine can do.
 *
 * FLOPs = 2 × multiply-adds (MACs). A convolution's MACs are counted as XNNPACK performs them:
 * every output element × every filter tap × every input channel, the taps that fall on the zero
 * padding included (XNNPACK's indirection buffer points them at a zero row and multiplies them
 * like any other). `usefulMacs` leaves those taps out. Zeros *inside* an input (the zero-inter-
 * leaved dy of a strided layer's input gradient) count as work in both.
 */
import * as tf from '@tensorflow/tfjs';

export interface KernelWork {
  /** Multiply-adds the kernel executes, zero-padded taps included. */
  macs: number;
  /** Multiply-adds on taps inside the unpadded input (= macs when there is no padding). */
  usefulMacs: number;
  /** Attributes that change the count, for the profile's key (empty when there are none). */
  note: string;
}

type Shape = readonly number[];
type Attrs = Record<string, unknown>;

function pair(v: unknown, fallback: number): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v)) return [Number(v[0] ?? fallback), Number(v[1] ?? v[0] ?? fallback)];
  return [fallback, fallback];
}

/** Taps of a 1-D correlation that land inside [0, size): summed over every output position. */
function insideTaps(outSize: number, stride: number, taps: number, dilation: number, padBefore: number, size: number): number {
  let n = 0;
  for (let o = 0; o < outSize; o++) {
    for (let r = 0; r < taps; r++) {
      const i = o * stride + r * dilation - padBefore;
      if (i >= 0 && i < size) n++;
    }
  }
  return n;
}

/** An NHWC convolution of x [N,H,W,Ci] with filter [fh,fw,Ci,Co], attributes as tfjs's Conv2D. */
export function conv2dWork(x: Shape, filter: Shape, attrs: Attrs): KernelWork {
  const info = tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    filter as [number, number, number, number],
    pair(attrs['strides'], 1),
    pair(attrs['dilations'], 1),
    attrs['pad'] as 'valid',
    (attrs['dimRoundingMode'] ?? undefined) as 'floor' | undefined,
    false,
    'channelsLast',
  );
  const { batchSize, outHeight, outWidth, outChannels, inChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, bottom, left, right } = info.padInfo;
  const perOutput = inChannels * outChannels;
  const macs = batchSize * outHeight * outWidth * filterHeight * filterWidth * perOutput;
  const rows = insideTaps(outHeight, strideHeight, filterHeight, info.dilationHeight, top, info.inHeight);
  const cols = insideTaps(outWidth, strideWidth, filterWidth, info.dilationWidth, left, info.inWidth);
  const notes: string[] = [];
  if (top || bottom || left || right) notes.push(`pad ${top},${bottom},${left},${right}`);
  if (strideHeight !== 1 || strideWidth !== 1) notes.push(`stride ${strideHeight},${strideWidth}`);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) notes.push(`dilation ${info.dilationHeight},${info.dilationWidth}`);
  return { macs, usefulMacs: batchSize * rows * cols * perOutput, note: notes.join(' ') };
}

/** [..., M, K] × [..., K, N] with optional transposes; batch dimensions broadcast. */
export function matMulWork(a: Shape, b: Shape, attrs: Attrs): KernelWork {
  const ta = attrs['transposeA'] === true;
  const tb = attrs['transposeB'] === true;
  const m = a[a.length - (ta ? 1 : 2)] ?? 1;
  const k = a[a.length - (ta ? 2 : 1)] ?? 1;
  const n = b[b.length - (tb ? 2 : 1)] ?? 1;
  const batchA = a.slice(0, -2).reduce((p, d) => p * d, 1);
  const batchB = b.slice(0, -2).reduce((p, d) => p * d, 1);
  const macs = Math.max(batchA, batchB) * m * n * k;
  return { macs, usefulMacs: macs, note: ta || tb ? `transpose ${ta ? 'a' : '-'}${tb ? 'b' : '-'}` : '' };
}

/**
 * The arithmetic of one call of `kernelName` with these inputs (named as the kernel names them)
 * and attributes; undefined for kernels that are not counted.
 */
export function kernelWork(kernelName: string, inputs: Record<string, Shape | undefined>, attrs: Attrs = {}): KernelWork | undefined {
  const { x, filter, a, b, dy } = inputs;
  switch (kernelName) {
    case 'Conv2D':
    case 'FusedConv2D':
      return x && filter ? conv2dWork(x, filter, attrs) : undefined;
    case 'BatchMatMul':
    case '_FusedMatMul':
      return a && b ? matMulWork(a, b, attrs) : undefined;
    case 'Conv2DBackpropInput': {
      // The gradient of the forward conv x(inputShape) * filter: the forward conv's products.
      const inputShape = attrs['inputShape'] as Shape | undefined;
      return inputShape && filter ? conv2dWork(inputShape, filter, attrs) : undefined;
    }
    case 'Conv2DBackpropFilter': {
      const filterShape = attrs['filterShape'] as Shape | undefined;
      return x && filterShape && dy ? conv2dWork(x, filterShape, attrs) : undefined;
    }
    default:
      return undefined;
  }
}

/** GFLOP/s of `macs` multiply-adds in `ms` milliseconds. */
export function gflops(macs: number, ms: number): number {
  return (2 * macs) / (ms * 1e6);
}
