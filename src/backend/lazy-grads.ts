/**
 * Gradient configs that compute only the gradients the caller asked for, registered on top of
 * tfjs 4.22's (tf.registerGradient; unregisterLazyGradients restores the stock ones).
 *
 * - tf.fused.conv2d / depthwiseConv2d / matMul (every tf.layers Conv2D and Dense, every converter
 *   FusedConv2D / FusedDepthwiseConv2dNative / _FusedMatMul) record a customGrad whose backward
 *   function computes the filter (and bias) gradients eagerly, also for an input gradient: about
 *   30% of a MobileNet input gradient. The engine lets a registered gradient config override a
 *   customGrad node's function when the config's name is the node's name, which for a customGrad
 *   node is the op's scope (`fusedConv2d__op` …). Such a node carries no attributes, so the fused
 *   kernel's attributes are recorded here, keyed by its output's dataId (and carried over by the
 *   `Identity` that saves that output for the backward pass), by wrapping `engine.runKernel`.
 * - DepthwiseConv2dNative: tfjs refuses dilations > 1 in the gradient; the wasm kernels
 *   (wasm-depthwise.ts) handle them, so this config passes them on (on cpu, whose backprop kernels
 *   ignore dilations, it keeps tfjs's refusal).
 * - Relu / Relu6 / ClipByValue: one kernel (`AdvtestClipGrad`, registered for wasm and cpu)
 *   instead of tfjs's 3-5 (step, compare, and/mul, cast, where/mul), with tfjs's exact semantics
 *   (tf.layers' ReLU({ maxValue: 6 }) is a Relu followed by a ClipByValue); on wasm it is a SIMD
 *   loop (simd-kernels.ts), the JS loop being the cpu kernel and the fallback.
 * - FusedBatchNorm: dx = dy · (γ / √(σ² + ε)) as one broadcast multiply; tfjs computes x − μ and
 *   dy·γ over the whole activation eagerly and dx with a full-size tile and two multiplies.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernels } from './simd-kernels.js';
import { isWasmBackend } from './wasm-fallback.js';

type Attrs = Record<string, unknown>;
type GradMap = Record<string, () => tf.Tensor>;

export const CLIP_GRAD_KERNEL = 'AdvtestClipGrad';

// ---------------------------------------------------------------------------------------------
// attributes of fused kernels, for the customGrad nodes that do not carry them

const FUSED_KERNELS = new Set(['FusedConv2D', 'FusedDepthwiseConv2D', '_FusedMatMul']);
const fusedAttrs = new WeakMap<object, Attrs>();
let engineHooked = false;

interface EngineInternals {
  runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs?: Attrs): tf.Tensor | tf.Tensor[];
  state: { gradientDepth: number };
}

function hookEngine(): void {
  if (engineHooked) return;
  engineHooked = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const runKernel = engine.runKernel;
  engine.runKernel = function (this: EngineInternals, name, inputs, attrs) {
    const out = runKernel.call(this, name, inputs, attrs);
    // Only while a tape may be recording: nothing else reads these.
    if (this.state.gradientDepth > 0 && !Array.isArray(out)) {
      if (FUSED_KERNELS.has(name)) {
        fusedAttrs.set(out.dataId, attrs ?? {});
      } else if (name === 'Identity') {
        const a = inputs['x'] && fusedAttrs.get(inputs['x'].dataId);
        if (a !== undefined) fusedAttrs.set(out.dataId, a);
      }
    }
    return out;
  };
}

function attrsOf(y: tf.Tensor | undefined, op: string): Attrs {
  const a = y && fusedAttrs.get(y.dataId);
  if (a === undefined) {
    throw new Error(`gradient of ${op}: its attributes were not recorded (the op ran before registerLazyGradients())`);
  }
  return a;
}

/** dy through the fused activation (under a tape tfjs fuses only 'linear'; 'relu' as tfjs does). */
function throughActivation(dy: tf.Tensor, y: tf.Tensor, activation: unknown, op: string): tf.Tensor {
  if (activation === undefined || activation === null || activation === 'linear') return dy;
  if (activation === 'relu') return tf.mul(dy, tf.step(y));
  throw new Error(`gradient of ${op}: fused activation '${String(activation)}' has no gradient`);
}

function biasGrad(bias: tf.Tensor, dyAct: tf.Tensor): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(bias.shape, dyAct.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dyAct, axes) : dyAct, bias.shape);
}

function pair(v: unknown): [number, number] {
  if (v === undefined || v === null) return [1, 1];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0] ?? 1, a[1] ?? a[0] ?? 1];
}

// customGrad nodes name their inputs by position: 0 = x (or a), 1 = filter (or b), 2 = bias.
const fusedConv2dGrad: tf.GradConfig = {
  kernelName: 'fusedConv2d__op',
  gradFunc: (dy, saved) => {
    const [filter, x, y, bias] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor | undefined];
    const a = attrsOf(y, 'fused conv2d');
    const [dh, dw] = pair(a['dilations']);
    if (dh !== 1 || dw !== 1) throw new Error(`gradient of fused conv2d: dilations [${dh}, ${dw}] are not supported (tfjs has no dilated Conv2D gradient)`);
    if (a['dataFormat'] !== undefined && a['dataFormat'] !== 'NHWC') throw new Error(`gradient of fused conv2d: dataFormat ${String(a['dataFormat'])} (only NHWC)`);
    const dyAct = throughActivation(tf.reshape(dy as tf.Tensor, y.shape), y, a['activation'], 'fused conv2d') as tf.Tensor4D;
    const strides = a['strides'] as [number, number];
    const pad = a['pad'] as tf.Conv2DBackpropInputAttrs['pad'];
    const rounding = a['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined;
    const grads: GradMap = {
      0: () => tf.conv2dTranspose(dyAct, filter, x.shape, strides, pad as 'same', rounding),
      1: () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dyAct }, {
          strides,
          pad,
          dataFormat: 'NHWC',
          dimRoundingMode: rounding,
          filterShape: filter.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
    if (bias !== undefined) grads[2] = () => biasGrad(bias, dyAct);
    return grads;
  },
};

function depthwiseInput(dy: tf.Tensor, filter: tf.Tensor, inputShape: number[], a: Attrs): tf.Tensor {
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, {
    strides: a['strides'],
    pad: a['pad'],
    dilations: a['dilations'] ?? [1, 1],
    dimRoundingMode: a['dimRoundingMode'],
    inputShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function depthwiseFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[], a: Attrs): tf.Tensor {
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
    strides: a['strides'],
    pad: a['pad'],
    dilations: a['dilations'] ?? [1, 1],
    dimRoundingMode: a['dimRoundingMode'],
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** Dilated depthwise gradients need our wasm kernels: the cpu ones ignore dilations. */
function checkDilations(a: Attrs, op: string): void {
  const [dh, dw] = pair(a['dilations']);
  if ((dh !== 1 || dw !== 1) && !isWasmBackend(tf.backend())) {
    throw new Error(`gradient of ${op}: dilations [${dh}, ${dw}] are supported on the wasm backend only (tfjs ${tf.getBackend()} has none)`);
  }
}

const fusedDepthwiseGrad: tf.GradConfig = {
  kernelName: 'fusedDepthwiseConv2d__op',
  gradFunc: (dy, saved) => {
    const [filter, x, y, bias] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor | undefined];
    const a = attrsOf(y, 'fused depthwiseConv2d');
    checkDilations(a, 'fused depthwiseConv2d');
    const dyAct = throughActivation(tf.reshape(dy as tf.Tensor, y.shape), y, a['activation'], 'fused depthwiseConv2d');
    const grads: GradMap = {
      0: () => depthwiseInput(dyAct, filter, x.shape, a),
      1: () => depthwiseFilter(x, dyAct, filter.shape, a),
    };
    if (bias !== undefined) grads[2] = () => biasGrad(bias, dyAct);
    return grads;
  },
};

const fusedMatMulGrad: tf.GradConfig = {
  kernelName: 'fusedMatMul__op',
  gradFunc: (dy, saved) => {
    const [a3, b3, y, bias] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor | undefined];
    const a = attrsOf(y, 'fused matMul');
    const ta = a['transposeA'] === true;
    const tb = a['transposeB'] === true;
    const d = throughActivation(tf.reshape(dy as tf.Tensor, y.shape), y, a['activation'], 'fused matMul') as tf.Tensor3D;
    // tfjs's formulas (ops/fused/mat_mul.js), one closure per operand.
    const grads: GradMap = {
      0: () => (!ta ? tf.matMul(d, b3, false, !tb) : tb ? tf.matMul(b3, d, true, true) : tf.matMul(b3, d, false, true)),
      1: () => (!tb ? (!ta ? tf.matMul(a3, d, true, false) : tf.matMul(a3, d, false, false)) : ta ? tf.matMul(d, a3, true, true) : tf.matMul(d, a3, true, false)),
    };
    if (bias !== undefined) grads[2] = () => biasGrad(bias, d);
    return grads;
  },
};

const depthwiseGrad: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as Attrs;
    checkDilations(a, 'depthwiseConv2d');
    return {
      x: () => depthwiseInput(dy as tf.Tensor, filter, x.shape, a),
      filter: () => depthwiseFilter(x, dy as tf.Tensor, filter.shape, a),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Relu6 / ClipByValue: one kernel

interface ClipGradAttrs {
  lo: number;
  hi: number;
  /** ClipByValue: lo ≤ x ≤ hi, NaN → 0. Relu6: lo < x ≤ hi, NaN → NaN (tfjs: step(NaN) = NaN). */
  relu6: boolean;
}

function clipGradValues(dy: ArrayLike<number>, x: ArrayLike<number>, out: Float32Array, a: ClipGradAttrs): void {
  // float32 bounds, as tfjs's stock gradient compares x with them (scalar tensors); 0.1 as a
  // float64 differs (x = fround(0.1) > 0.1) and so would the SIMD kernel's float32 compare.
  const lo = Math.fround(a.lo);
  const hi = Math.fround(a.hi);
  if (a.relu6) {
    // dy · step(x) with the 0/1 factor computed without a branch ((v > lo) & (v <= hi) is an
    // integer): the sign of a ReLU input is a coin toss the branch predictor loses, and a branchy
    // loop took 4x the CPU time (issue 21, test/bench/ab-kernels.ts). dy·1 = dy and dy·0 are what
    // tfjs computes. NaN inputs (NaN · anything in tfjs) are fixed up in a second pass, only when
    // there are any: a NaN test inside this loop makes V8 compile it back into branches.
    let nan = 0;
    for (let i = 0; i < out.length; i++) {
      const v = x[i] as number;
      out[i] = (dy[i] as number) * (((v > lo) as unknown as number) & ((v <= hi) as unknown as number));
      nan |= (v !== v) as unknown as number;
    }
    if (nan !== 0) {
      for (let i = 0; i < out.length; i++) if (x[i] !== x[i]) out[i] = NaN;
    }
  } else {
    for (let i = 0; i < out.length; i++) {
      const v = x[i] as number;
      out[i] = v >= lo && v <= hi ? (dy[i] as number) : 0;
    }
  }
}

const clipGradWasm: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const dy = inputs['dy']!;
  const x = inputs['x']!;
  if (!isWasmBackend(backend)) throw new Error(`${CLIP_GRAD_KERNEL}: not the wasm backend`);
  const a = attrs as unknown as ClipGradAttrs;
  const out = backend.makeOutput(x.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd !== undefined) {
    // SIMD in place on the heap (simd-kernels.wat): ~7x less CPU than the JS loop below (issue 21).
    const n = tf.util.sizeFromShape(x.shape);
    const [pdy, px, pout] = [heapOffset(backend, dy), heapOffset(backend, x), heapOffset(backend, out)];
    if (a.relu6) simd.relu_grad(pdy, px, pout, n, a.lo, a.hi);
    else simd.clip_grad(pdy, px, pout, n, a.lo, a.hi);
    return out;
  }
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  clipGradValues(backend.typedArrayFromHeap(dy) as Float32Array, backend.typedArrayFromHeap(x) as Float32Array, o, a);
  return out;
};

interface CpuBackendLike {
  data: { get(id: tf.DataId): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

const clipGradCpu: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const cpu = backend as unknown as CpuBackendLike;
  const dy = inputs['dy']!;
  const x = inputs['x']!;
  const o = new Float32Array(tf.util.sizeFromShape(x.shape));
  clipGradValues(cpu.data.get(dy.dataId).values, cpu.data.get(x.dataId).values, o, attrs as unknown as ClipGradAttrs);
  return cpu.makeTensorInfo(x.shape, 'float32', o);
};

function clipGrad(dy: tf.Tensor, x: tf.Tensor, a: ClipGradAttrs): tf.Tensor {
  if (dy.dtype === 'float32' && x.dtype === 'float32' && tf.util.arraysEqual(dy.shape, x.shape) && tf.getKernel(CLIP_GRAD_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(CLIP_GRAD_KERNEL, { dy, x }, a as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  // Other backends: tfjs's own composition.
  if (a.relu6 && a.hi === Infinity) return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
  if (a.relu6) return tf.mul(dy, tf.cast(tf.mul(tf.lessEqual(x, a.hi), tf.step(x)), 'float32'));
  return tf.where(tf.logicalAnd(tf.greaterEqual(x, a.lo), tf.lessEqual(x, a.hi)), dy, tf.zerosLike(dy));
}

const relu6Grad: tf.GradConfig = {
  kernelName: 'Relu6',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => clipGrad(dy as tf.Tensor, x, { lo: 0, hi: 6, relu6: true }) };
  },
};

/** Relu's gradient dy·step(x) is the same one-pass kernel with an unbounded top. */
const reluGrad: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => clipGrad(dy as tf.Tensor, x, { lo: 0, hi: Infinity, relu6: true }) };
  },
};

const clipByValueGrad: tf.GradConfig = {
  kernelName: 'ClipByValue',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { clipValueMin, clipValueMax } = attrs as unknown as tf.ClipByValueAttrs;
    return { x: () => clipGrad(dy as tf.Tensor, x, { lo: clipValueMin, hi: clipValueMax, relu6: false }) };
  },
};

// ---------------------------------------------------------------------------------------------
// FusedBatchNorm

const batchNormGrad: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const g = dy as tf.Tensor;
    const eps = (attrs as unknown as tf.FusedBatchNormAttrs).varianceEpsilon;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(mean.rank === 1 && axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
    // Small ([C]) tensors, recomputed per closure: each runs in its own tidy.
    const inv = (): tf.Tensor => tf.rsqrt(tf.add(variance, eps));
    const withScale = (t: tf.Tensor): tf.Tensor => (scale === undefined ? t : tf.mul(t, scale));
    return {
      x: () => tf.reshape(tf.mul(g, withScale(inv())), x.shape),
      mean: () => reduce(tf.mul(g, tf.neg(withScale(inv())))),
      variance: () => reduce(tf.mul(tf.mul(g, tf.sub(x, mean)), withScale(tf.mul(tf.pow(inv(), 3), -0.5)))),
      scale: () => reduce(tf.mul(g, tf.mul(tf.sub(x, mean), inv()))),
      offset: () => reduce(g),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// registration

const CONFIGS: tf.GradConfig[] = [fusedConv2dGrad, fusedDepthwiseGrad, fusedMatMulGrad, depthwiseGrad, reluGrad, relu6Grad, clipByValueGrad, batchNormGrad];
/** tfjs's configs we replaced (undefined: none, for the fused ops' scope names). */
const stock = new Map<string, tf.GradConfig | undefined>();

function registerClipKernel(backendName: 'wasm' | 'cpu', kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(CLIP_GRAD_KERNEL, backendName) === undefined) tf.registerKernel({ kernelName: CLIP_GRAD_KERNEL, backendName, kernelFunc });
}

/** True when our gradient configs are the registered ones. */
export function lazyGradientsRegistered(): boolean {
  return CONFIGS.every((c) => tf.getGradient(c.kernelName) === c);
}

/** Registers the configs above (idempotent) and the one-pass clip-gradient kernel for wasm and cpu. */
export function registerLazyGradients(): void {
  hookEngine();
  registerClipKernel('wasm', clipGradWasm);
  registerClipKernel('cpu', clipGradCpu);
  for (const c of CONFIGS) {
    const current = tf.getGradient(c.kernelName);
    if (current === c) continue;
    stock.set(c.kernelName, current ?? undefined);
    tf.registerGradient(c);
  }
}

/** Restores tfjs's gradient configs (for before/after measurements and tests). */
export function unregisterLazyGradients(): void {
  for (const c of CONFIGS) {
    if (tf.getGradient(c.kernelName) !== c) continue;
    tf.unregisterGradient(c.kernelName);
    const original = stock.get(c.kernelName);
    if (original) tf.registerGradient(original);
  }
}
