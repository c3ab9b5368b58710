/**
 * The depthwise-convolution gradient kernels (src/backend/wasm-depthwise.ts) and the gradient
 * configs of src/backend/lazy-grads.ts against the cpu backend with tfjs's stock gradients.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyGradientsRegistered, registerLazyGradients, unregisterLazyGradients } from '../../src/backend/lazy-grads.js';
import { registerWasmGradKernels } from '../../src/backend/wasm-kernels.js';
import { mobileNetV2, type BlockSetting } from '../helpers/mobilenet.js';
import { randomArray, relErr, runOn, size, TOL, yieldToEventLoop } from './cpu-reference.js';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  await tf.ready();
  registerWasmGradKernels();
  await tf.setBackend('cpu');
  await tf.ready();
});

afterAll(() => registerLazyGradients());

/** fn on cpu with tfjs's stock gradient configs (reference) and on wasm with ours; within TOL. */
async function expectStockCpuEqualsWasm(label: string, cpuFn: () => tf.Tensor | tf.Tensor[], wasmFn = cpuFn, tol = TOL): Promise<void> {
  unregisterLazyGradients();
  let ref;
  try {
    ref = await runOn('cpu', cpuFn);
  } finally {
    registerLazyGradients();
  }
  const got = await runOn('wasm', wasmFn);
  expect(got.shapes, label).toEqual(ref.shapes);
  ref.values.forEach((r, i) => {
    const err = relErr(got.values[i]!, r);
    expect(err, `${label} output ${i}: relative error ${err}`).toBeLessThanOrEqual(tol);
  });
}

/** The filter with (d-1) zeros between taps (differentiable): a dilated conv is a plain conv with it. */
function dilateFilter(w: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const [fh, fw, c, m] = w.shape;
  const spread = tf.pad(tf.reshape(w, [fh, 1, fw, 1, c * m]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0]]);
  const full = tf.reshape(spread, [fh * dh, fw * dw, c, m]);
  return tf.slice(full, [0, 0, 0, 0], [(fh - 1) * dh + 1, (fw - 1) * dw + 1, c, m]) as tf.Tensor4D;
}

interface DwCase {
  x: Shape4;
  /** [fh, fw, channels, multiplier] */
  w: Shape4;
  s: number | [number, number];
  pad: Pad;
  d?: number;
}

const label = (c: DwCase): string => `x[${c.x.join(',')}] w[${c.w.join(',')}] s${JSON.stringify(c.s)} d${c.d ?? 1} pad ${JSON.stringify(c.pad)}`;

function outShapeOf(c: DwCase): Shape4 | undefined {
  try {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.w, c.s, c.d ?? 1, c.pad, undefined, true);
    return info.outHeight > 0 && info.outWidth > 0 ? (info.outShape as Shape4) : undefined;
  } catch {
    return undefined;
  }
}

/** Both kernels, called directly; dilated cases against cpu with the zero-dilated filter. */
async function checkDepthwise(c: DwCase): Promise<void> {
  const y = outShapeOf(c)!;
  const d = c.d ?? 1;
  const xv = randomArray(size(c.x));
  const wv = randomArray(size(c.w));
  const dyv = randomArray(size(y));
  const attrs = { strides: c.s, pad: c.pad, dilations: [d, d] };
  const input = (dilated: boolean) => (): tf.Tensor => {
    const w = tf.tensor4d(wv, c.w);
    const filter = dilated && d > 1 ? dilateFilter(w, d, d) : w;
    return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor4d(dyv, y), filter }, {
      ...attrs,
      dilations: dilated ? [1, 1] : [d, d],
      inputShape: c.x,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
  };
  const filterGrad = (dilated: boolean) => (): tf.Tensor => {
    const eff: Shape4 = dilated && d > 1 ? [(c.w[0] - 1) * d + 1, (c.w[1] - 1) * d + 1, c.w[2], c.w[3]] : c.w;
    const g = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(xv, c.x), dy: tf.tensor4d(dyv, y) }, {
      ...attrs,
      dilations: dilated ? [1, 1] : [d, d],
      filterShape: eff,
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    // The taps of the dilated filter are every d-th tap of the zero-dilated one.
    return dilated && d > 1 ? tf.stridedSlice(g, [0, 0, 0, 0], eff, [d, d, 1, 1]) : g;
  };
  await expectStockCpuEqualsWasm(`${label(c)} DepthwiseConv2dNativeBackpropInput`, input(true), input(false));
  await expectStockCpuEqualsWasm(`${label(c)} DepthwiseConv2dNativeBackpropFilter`, filterGrad(true), filterGrad(false));
}

describe('depthwise gradient kernels vs cpu: grid', () => {
  const SIZES: Array<[number, number]> = [
    [5, 5],
    [8, 7],
    [14, 14],
  ];
  const FILTERS: Array<[number, number]> = [
    [3, 3],
    [5, 5],
    [1, 1],
    [3, 2],
  ];
  const CHANNELS: Array<[number, number]> = [
    [1, 1],
    [8, 1],
    [3, 2],
  ];
  const PADS: Pad[] = ['valid', 'same', 1, [[0, 0], [0, 1], [0, 1], [0, 0]]];
  for (const [h, w] of SIZES) {
    for (const [ci, cm] of CHANNELS) {
      it(`${h}x${w}, ${ci} channels × ${cm}`, async () => {
        let n = 0;
        for (const [fh, fw] of FILTERS) {
          for (const s of [1, 2]) {
            for (const d of s === 1 ? [1, 2] : [1]) {
              for (const pad of PADS) {
                const c: DwCase = { x: [2, h, w, ci], w: [fh, fw, ci, cm], s, pad, d };
                if (outShapeOf(c) === undefined) continue;
                await checkDepthwise(c);
                await yieldToEventLoop();
                n++;
              }
            }
          }
        }
        expect(n).toBeGreaterThan(20);
      });
    }
  }

  it('MobileNet shapes, non-square strides and large pads', async () => {
    await checkDepthwise({ x: [2, 28, 28, 32], w: [3, 3, 32, 1], s: 2, pad: 'same' });
    await checkDepthwise({ x: [1, 14, 14, 96], w: [3, 3, 96, 1], s: 1, pad: 'same' });
    await checkDepthwise({ x: [1, 15, 15, 16], w: [5, 5, 16, 1], s: 2, pad: 'valid' });
    await checkDepthwise({ x: [2, 11, 10, 4], w: [3, 3, 4, 1], s: [2, 1], pad: 'same' });
    await checkDepthwise({ x: [2, 9, 9, 4], w: [3, 3, 4, 1], s: 3, pad: 'valid' });
    await checkDepthwise({ x: [1, 7, 7, 3], w: [3, 3, 3, 1], s: 1, pad: 4 });
    await checkDepthwise({ x: [1, 12, 12, 6], w: [3, 3, 6, 1], s: 1, pad: 'same', d: 3 });
  });
});

describe('gradient configs vs tfjs stock gradients on cpu', () => {
  it('registers idempotently and restores the stock configs', () => {
    registerLazyGradients();
    expect(lazyGradientsRegistered()).toBe(true);
    const relu6 = tf.getGradient('Relu6');
    registerLazyGradients();
    expect(tf.getGradient('Relu6')).toBe(relu6);
    unregisterLazyGradients();
    expect(lazyGradientsRegistered()).toBe(false);
    expect(tf.getGradient('Relu6')).not.toBe(relu6);
    expect(tf.getGradient('fusedConv2d__op')).toBeUndefined();
    registerLazyGradients();
    expect(lazyGradientsRegistered()).toBe(true);
  });

  it('Relu, Relu6, ClipByValue (boundaries, NaN) in one kernel', async () => {
    const xs = Float32Array.from([-1, 0, 1e-7, 3, 6, 6.0001, 7, NaN, -0, 2.5, Infinity, -Infinity]);
    const dys = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, -10, 11, 12]);
    const cases: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
      ['relu', (x) => tf.relu(x)],
      ['relu6', (x) => tf.relu6(x)],
      ['clipByValue', (x) => tf.clipByValue(x, 0, 6)],
      ['clipByValue -1..2.5', (x) => tf.clipByValue(x, -1, 2.5)],
    ];
    for (const [name, f] of cases) {
      const fn = (): tf.Tensor => tf.grad(f)(tf.tensor1d(xs), tf.tensor1d(dys));
      unregisterLazyGradients();
      const ref = await runOn('cpu', fn);
      registerLazyGradients();
      for (const backend of ['cpu', 'wasm'] as const) {
        const kernels = await profiledKernels(backend, fn);
        expect(kernels, `${name} on ${backend}`).toContain('AdvtestClipGrad');
        const got = await runOn(backend, fn);
        // NaN where tfjs has NaN, equal elsewhere
        expect(Array.from(got.values[0]!), `${name} on ${backend}`).toEqual(Array.from(ref.values[0]!));
      }
    }
  });

  it('FusedBatchNorm: every input gradient', async () => {
    const shape: Shape4 = [2, 5, 4, 6];
    const xv = randomArray(size(shape));
    const stats = [randomArray(6), randomArray(6, 0.5, 1.5), randomArray(6), randomArray(6, 0.5, 1.5)];
    const dyv = randomArray(size(shape));
    await expectStockCpuEqualsWasm('batchNorm grads', () => {
      const [mean, variance, offset, scale] = stats.map((v) => tf.tensor1d(v!));
      const f = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor): tf.Tensor =>
        tf.batchNorm(x as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, 1e-3);
      return tf.grads(f)([tf.tensor4d(xv, shape), mean!, variance!, offset!, scale!], tf.tensor4d(dyv, shape));
    });
  });

  const convShapes = { x: [2, 9, 9, 4] as Shape4, w: [3, 3, 4, 6] as Shape4, dw: [3, 3, 4, 2] as Shape4 };
  for (const activation of ['linear', 'relu'] as const) {
    for (const withBias of [true, false]) {
      it(`tf.fused.conv2d / depthwiseConv2d / matMul, ${activation}${withBias ? ' + bias' : ''}: all gradients, and x alone`, async () => {
        const xv = randomArray(size(convShapes.x));
        const wv = randomArray(size(convShapes.w));
        const dwv = randomArray(size(convShapes.dw));
        const bv = randomArray(8);
        const bias = (n: number): tf.Tensor1D | undefined => (withBias ? tf.tensor1d(bv.slice(0, n)) : undefined);
        const conv = (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor =>
          tf.sum(tf.square(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: 'same', activation, ...(b ? { bias: b } : {}) })));
        const depthwise = (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor =>
          tf.sum(tf.square(tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'valid', activation, ...(b ? { bias: b } : {}) })));
        const matMul = (a: tf.Tensor, w: tf.Tensor, b?: tf.Tensor, ta = false, tb = false): tf.Tensor =>
          tf.sum(tf.square(tf.fused.matMul({ a: a as tf.Tensor2D, b: w as tf.Tensor2D, transposeA: ta, transposeB: tb, activation, ...(b ? { bias: b } : {}) })));
        const all = (f: (...t: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): tf.Tensor[] => [...tf.grads(f)(inputs), tf.grad((x) => f(x, ...inputs.slice(1)))(inputs[0]!)];
        await expectStockCpuEqualsWasm('fused conv2d', () => {
          const b = bias(6);
          return all((x, w, bb) => conv(x!, w!, bb), [tf.tensor4d(xv, convShapes.x), tf.tensor4d(wv, convShapes.w), ...(b ? [b] : [])]);
        });
        await expectStockCpuEqualsWasm('fused depthwiseConv2d', () => {
          const b = bias(8);
          return all((x, w, bb) => depthwise(x!, w!, bb), [tf.tensor4d(xv, convShapes.x), tf.tensor4d(dwv, convShapes.dw), ...(b ? [b] : [])]);
        });
        for (const [ta, tb] of [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ] as const) {
          await expectStockCpuEqualsWasm(`fused matMul ta=${ta} tb=${tb}`, () => {
            const a = tf.tensor2d(xv.slice(0, 35), ta ? [7, 5] : [5, 7]);
            const w = tf.tensor2d(wv.slice(0, 56), tb ? [8, 7] : [7, 8]);
            const b = bias(8);
            return all((aa, ww, bb) => matMul(aa!, ww!, bb, ta, tb), [a, w, ...(b ? [b] : [])]);
          });
        }
      });
    }
  }

  it('dilated depthwiseConv2d has a gradient on wasm (tfjs refuses it), equal to the zero-dilated filter on cpu', async () => {
    const xv = randomArray(2 * 10 * 10 * 3);
    const wv = randomArray(3 * 3 * 3);
    await expectStockCpuEqualsWasm(
      'dilated depthwise',
      () => tf.grads((x, w) => tf.sum(tf.square(tf.depthwiseConv2d(x as tf.Tensor4D, dilateFilter(w as tf.Tensor4D, 2, 2), 1, 'same'))))([tf.tensor4d(xv, [2, 10, 10, 3]), tf.tensor4d(wv, [3, 3, 3, 1])]),
      () => tf.grads((x, w) => tf.sum(tf.square(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2))))([tf.tensor4d(xv, [2, 10, 10, 3]), tf.tensor4d(wv, [3, 3, 3, 1])]),
    );
  });
});

async function profiledKernels(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  await tf.setBackend(backend);
  const info = await tf.profile(() => {
    const out = fn();
    tf.dispose(out);
  });
  return info.kernels.map((k) => k.name);
}

/** A small MobileNetV2: the stem, three stages (with a residual and a stride-2 block). */
const SMALL: BlockSetting[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 2, 2],
];

describe('MobileNetV2-like LayersModel: input gradient on wasm equals cpu', () => {
  const variants = [
    { name: 'relu6 activation, same padding', options: { relu6: 'relu6' as const } },
    { name: 'ReLU(maxValue=6), ZeroPadding2D', options: { relu6: 'maxValue' as const, stridePadding: 'zeroPadding' as const } },
  ];
  for (const v of variants) {
    it(v.name, async () => {
      await tf.setBackend('cpu');
      const model = mobileNetV2({ inputShape: [48, 48, 3], classes: 10, blocks: SMALL, lastFilters: 64, seed: 3, ...v.options });
      const xv = randomArray(2 * 48 * 48 * 3, 0, 1);
      const labels = tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10);
      const fn = (): tf.Tensor =>
        tf.grad((x) => tf.losses.softmaxCrossEntropy(labels, model.apply(x) as tf.Tensor, undefined, tf.Reduction.SUM))(tf.tensor4d(xv, [2, 48, 48, 3]));
      await expectStockCpuEqualsWasm(`mobilenet ${v.name}`, fn);
      // Only the input gradient ran: no filter-gradient kernel, and no weight-sized matMul.
      const kernels = await profiledKernels('wasm', fn);
      expect(kernels).toContain('DepthwiseConv2dNativeBackpropInput');
      expect(kernels).not.toContain('Conv2DBackpropFilter');
      expect(kernels).not.toContain('DepthwiseConv2dNativeBackpropFilter');
      unregisterLazyGradients();
      try {
        expect(await profiledKernels('wasm', fn)).toContain('Conv2DBackpropFilter'); // tfjs's own do
      } finally {
        registerLazyGradients();
      }
      // no leak
      await tf.setBackend('wasm');
      const x = tf.tensor4d(xv, [2, 48, 48, 3]);
      const before = tf.memory().numTensors;
      tf.dispose(tf.grad((xx) => tf.losses.softmaxCrossEntropy(labels, model.apply(xx) as tf.Tensor, undefined, tf.Reduction.SUM))(x));
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([labels, x]);
      model.dispose();
    });
  }

  it('a model built from the fused ops called directly (converter GraphModel style)', async () => {
    await tf.setBackend('cpu');
    const p = {
      w1: randomArray(3 * 3 * 3 * 16, -0.3, 0.3),
      b1: randomArray(16, -0.1, 0.1),
      dw: randomArray(3 * 3 * 16, -0.3, 0.3),
      b2: randomArray(16, -0.1, 0.1),
      w3: randomArray(16 * 24, -0.3, 0.3),
      b3: randomArray(24, -0.1, 0.1),
      w4: randomArray(24 * 10, -0.3, 0.3),
      b4: randomArray(10, -0.1, 0.1),
    };
    const xv = randomArray(2 * 32 * 32 * 3, 0, 1);
    const net = (x: tf.Tensor): tf.Tensor => {
      let h = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: tf.tensor4d(p.w1, [3, 3, 3, 16]), strides: 2, pad: 'same', bias: tf.tensor1d(p.b1), activation: 'relu6' });
      h = tf.fused.depthwiseConv2d({ x: h, filter: tf.tensor4d(p.dw, [3, 3, 16, 1]), strides: 1, pad: 'same', bias: tf.tensor1d(p.b2), activation: 'relu' });
      h = tf.fused.conv2d({ x: h, filter: tf.tensor4d(p.w3, [1, 1, 16, 24]), strides: 1, pad: 'valid', bias: tf.tensor1d(p.b3) });
      const pooled = tf.mean(tf.avgPool(h, 3, 2, 'same'), [1, 2]) as tf.Tensor2D;
      const d = tf.fused.matMul({ a: pooled, b: tf.tensor2d(p.w4, [24, 10]), bias: tf.tensor1d(p.b4), activation: 'relu' });
      return tf.fused.matMul({ a: d, b: tf.tensor2d(p.w4.slice(0, 100), [10, 10]), bias: tf.tensor1d(p.b4) });
    };
    const fn = (): tf.Tensor => tf.grad((x) => tf.sum(tf.square(net(x))))(tf.tensor4d(xv, [2, 32, 32, 3]));
    await expectStockCpuEqualsWasm('fused-op model', fn);
    const kernels = await profiledKernels('wasm', fn);
    expect(kernels).not.toContain('Conv2DBackpropFilter');
    expect(kernels).not.toContain('DepthwiseConv2dNativeBackpropFilter');
  });
});

describe('_FusedMatMul on wasm with a bias, transposed or batched (the stock kernel is wrong)', () => {
  for (const [ta, tb] of [
    [true, false],
    [false, true],
    [true, true],
    [false, false],
  ] as const) {
    it(`transposeA=${ta} transposeB=${tb}, batch 1 and 3`, async () => {
      for (const batch of [1, 3]) {
        const av = randomArray(batch * 7 * 5);
        const bv = randomArray(batch * 7 * 8);
        const biasv = randomArray(8);
        for (const activation of ['linear', 'relu'] as const) {
          await expectStockCpuEqualsWasm(`fused matMul ${activation} batch ${batch}`, () =>
            tf.fused.matMul({
              a: tf.tensor3d(av, ta ? [batch, 7, 5] : [batch, 5, 7]),
              b: tf.tensor3d(bv, tb ? [batch, 8, 7] : [batch, 7, 8]),
              transposeA: ta,
              transposeB: tb,
              bias: tf.tensor1d(biasv),
              activation,
            }),
          );
        }
      }
    });
  }
});
