/**
 * The wasm replacement gradient kernels (src/backend/wasm-kernels.ts) against the cpu backend's
 * kernels (see cpu-reference.ts): conv gradients, MaxPoolGrad, transposed BatchMatMul.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerWasmGradKernels,
  setFilterGradStrategy,
  setInputGradStrategy,
  unregisterWasmGradKernels,
  wasmGradKernelsRegistered,
} from '../../src/backend/wasm-kernels.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropFilterDirect } from '../../src/backend/wasm-im2col.js';
import { expectSameAs, expectSameOnBoth, randomArray, rng, size, yieldToEventLoop } from './cpu-reference.js';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type Strides = number | [number, number];

function pairOf(s: Strides): [number, number] {
  return typeof s === 'number' ? [s, s] : s;
}

/** A conv case is valid when the forward conv has a non-empty output. */
function outShape(x: Shape4, w: Shape4, strides: Strides, pad: Pad): Shape4 | undefined {
  try {
    const info = tf.backend_util.computeConv2DInfo(x, w, pairOf(strides), 1, pad);
    const [, oh, ow] = info.outShape;
    return oh > 0 && ow > 0 ? (info.outShape as Shape4) : undefined;
  } catch {
    return undefined;
  }
}

interface ConvCase {
  x: Shape4;
  w: Shape4;
  strides: Strides;
  pad: Pad;
}

function label(c: ConvCase): string {
  return `x[${c.x.join(',')}] w[${c.w.join(',')}] s${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}`;
}

/** Compares both gradient kernels for one conv configuration (kernels called directly). */
async function checkConvGrads(c: ConvCase): Promise<void> {
  const y = outShape(c.x, c.w, c.strides, c.pad);
  if (y === undefined) throw new Error(`bad case ${label(c)}`);
  const xv = randomArray(size(c.x));
  const wv = randomArray(size(c.w));
  const dyv = randomArray(size(y));
  await expectSameOnBoth(`${label(c)} Conv2DBackpropInput`, () =>
    tf.conv2dTranspose(tf.tensor4d(dyv, y), tf.tensor4d(wv, c.w), c.x, c.strides, c.pad),
  );
  const filterGrad = () =>
    tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x: tf.tensor4d(xv, c.x), dy: tf.tensor4d(dyv, y) },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.w },
    ) as tf.Tensor;
  const byForwardConv = () => filterGradByForwardConv(tf.tensor4d(xv, c.x), tf.tensor4d(dyv, y), c);
  if (c.x[3] * c.w[3] < CPU_FILTER_GRAD_LIMIT) {
    await expectSameOnBoth(`${label(c)} Conv2DBackpropFilter`, filterGrad);
    // The cheap reference below is itself checked against cpu's kernel on every small case.
    await expectSameAs(`${label(c)} filter gradient by forward conv`, byForwardConv, filterGrad, 'cpu');
  } else {
    await expectSameAs(`${label(c)} Conv2DBackpropFilter`, byForwardConv, filterGrad);
  }
}

/**
 * cpu's Conv2DBackpropFilter is a scalar loop through TensorBuffer.get: ~3 s a call at
 * [1,28,28,32]*[3,3,32,64]. At ci·co of 512 and above (the 32->64 cases) the reference is the
 * same sum as a forward conv on cpu, 100× faster: dW[i,j,ci,co] = Σ_{n,a,b} xpad[n, i+a·sh,
 * j+b·sw, ci]·dy[n,a,b,co], i.e. conv2d of xpad as [ci,H,W,n] with dy as a [oh,ow,n,co] filter
 * dilated by the strides, cropped to the filter's size.
 */
const CPU_FILTER_GRAD_LIMIT = 512;

function filterGradByForwardConv(x: tf.Tensor4D, dy: tf.Tensor4D, c: ConvCase): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.w, pairOf(c.strides), 1, c.pad);
  const { top, bottom, left, right } = info.padInfo;
  // Negative "pads" never occur for these cases; a crop would be needed otherwise.
  const xp = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  const out = tf.conv2d(tf.transpose(xp, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
  return tf.transpose(tf.slice(out, [0, 0, 0, 0], [c.w[2], c.w[0], c.w[1], c.w[3]]), [1, 2, 0, 3]);
}

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  await tf.ready();
  registerWasmGradKernels();
  await tf.setBackend('cpu');
  await tf.ready();
  await tf.setBackend('wasm');
});

afterAll(() => {
  setFilterGradStrategy('auto');
  setInputGradStrategy('auto');
});

describe('registration', () => {
  it('registers for wasm, idempotently, and can restore the stock kernels', () => {
    expect(wasmGradKernelsRegistered()).toBe(true);
    const ours = tf.getKernel('Conv2DBackpropInput', 'wasm');
    registerWasmGradKernels();
    registerWasmGradKernels();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(ours);
    unregisterWasmGradKernels();
    expect(wasmGradKernelsRegistered()).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined(); // stock 4.22 has none
    const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(stock).toBeDefined();
    expect(stock?.kernelFunc).not.toBe(ours?.kernelFunc);
    registerWasmGradKernels();
    expect(wasmGradKernelsRegistered()).toBe(true);
  });
});

// The grid of the brief: batch 1 and 3; 5x5, 7x6, 13x13, 28x28; channels 1, 3, 32->64;
// kernels 3x3, 5x5, 2x2, 1x1; strides 1, 2; pad 'valid', 'same', 1.
const SIZES: Array<[number, number]> = [
  [5, 5],
  [7, 6],
  [13, 13],
  [28, 28],
];
const CHANNELS: Array<[number, number]> = [
  [1, 8],
  [3, 1],
  [32, 64],
];
const KERNELS = [3, 5, 2, 1];
const STRIDES = [1, 2];
const PADS: Pad[] = ['valid', 'same', 1];

describe('conv gradient kernels vs cpu: grid', () => {
  for (const [h, w] of SIZES) {
    for (const [ci, co] of CHANNELS) {
      it(`${h}x${w}, ${ci}->${co} channels`, async () => {
        let n = 0;
        // The cpu reference is a scalar JS loop: for 32->64 channels at 13x13 and 28x28 use batch
        // 1 only, and at 28x28 only 3x3 (the MNIST CNN shapes are covered separately below).
        const heavy = ci === 32 && h >= 13;
        for (const batch of heavy ? [1] : [1, 3]) {
          for (const k of KERNELS) {
            if (heavy && h === 28 && k !== 3) continue;
            for (const s of STRIDES) {
              for (const pad of PADS) {
                const c: ConvCase = { x: [batch, h, w, ci], w: [k, k, ci, co], strides: s, pad };
                if (outShape(c.x, c.w, c.strides, c.pad) === undefined) continue;
                await checkConvGrads(c);
                await yieldToEventLoop(); // lets vitest's worker RPC through during long loops
                n++;
              }
            }
          }
        }
        expect(n).toBeGreaterThan(0);
      });
    }
  }
});

describe('conv gradient kernels vs cpu: padding and stride corner cases', () => {
  const cases: ConvCase[] = [
    // explicit per-side pads, including pads larger than the filter (crop paths)
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [1, 2], [0, 3], [0, 0]] },
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: 2, pad: [[0, 0], [4, 0], [2, 2], [0, 0]] },
    { x: [1, 9, 9, 2], w: [2, 2, 2, 3], strides: 1, pad: 4 },
    { x: [1, 9, 9, 16], w: [3, 3, 16, 5], strides: 2, pad: 3 },
    { x: [2, 8, 8, 3], w: [3, 3, 3, 4], strides: 2, pad: [[0, 0], [0, 0], [0, 0], [0, 0]] },
    // general and non-square strides, truncated rows/columns
    { x: [2, 11, 10, 3], w: [3, 3, 3, 4], strides: 3, pad: 'valid' },
    { x: [2, 11, 10, 3], w: [3, 2, 3, 4], strides: [1, 2], pad: 'same' },
    { x: [2, 11, 10, 12], w: [2, 3, 12, 4], strides: [2, 1], pad: 1 },
    { x: [1, 6, 6, 2], w: [6, 6, 2, 3], strides: 1, pad: 'valid' },
    { x: [1, 5, 5, 2], w: [5, 5, 2, 3], strides: 4, pad: 'same' },
  ];
  for (const c of cases) {
    it(label(c), async () => {
      await checkConvGrads(c);
    });
  }

  it('both Conv2DBackpropInput strategies agree with cpu', async () => {
    // 'auto' takes col2im up to 4 input channels and conv above; force each on the other's cases.
    try {
      for (const strategy of ['conv', 'col2im'] as const) {
        setInputGradStrategy(strategy);
        await checkConvGrads({ x: [2, 9, 8, 1], w: [3, 3, 1, 5], strides: 1, pad: 'valid' });
        await checkConvGrads({ x: [2, 9, 8, 3], w: [3, 3, 3, 5], strides: 2, pad: 'same' });
        await checkConvGrads({ x: [2, 9, 8, 12], w: [3, 2, 12, 5], strides: [2, 1], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
        await checkConvGrads({ x: [1, 9, 9, 16], w: [3, 3, 16, 5], strides: 2, pad: 3 });
        await checkConvGrads({ x: [2, 11, 10, 2], w: [3, 3, 2, 4], strides: 3, pad: 'valid' });
        await checkConvGrads({ x: [1, 7, 7, 2], w: [3, 3, 2, 4], strides: 1, pad: 4 });
      }
    } finally {
      setInputGradStrategy('auto');
    }
  });

  it('both Conv2DBackpropFilter strategies agree with cpu', async () => {
    try {
      for (const strategy of ['conv', 'im2col'] as const) {
        setFilterGradStrategy(strategy);
        await checkConvGrads({ x: [2, 9, 8, 3], w: [3, 3, 3, 5], strides: 2, pad: 'same' });
        await checkConvGrads({ x: [2, 9, 8, 12], w: [3, 2, 12, 5], strides: 1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
        await checkConvGrads({ x: [2, 7, 7, 1], w: [3, 3, 1, 4], strides: 1, pad: 4 });
        await checkConvGrads({ x: [2, 11, 10, 3], w: [3, 3, 3, 4], strides: 3, pad: 'valid' });
        await checkConvGrads({ x: [1, 9, 9, 2], w: [2, 2, 2, 3], strides: 1, pad: 4 });
      }
    } finally {
      setFilterGradStrategy('auto');
    }
  });

  it("the direct SIMD Conv2DBackpropFilter (few input channels, output channels in 16s) agrees with cpu, and steps aside otherwise", async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const info = tf.backend_util.computeConv2DInfo([1, 6, 6, 1], [3, 3, 1, 16], [1, 1], 1, 'valid');
    const x = tf.zeros([1, 6, 6, 1]);
    const dy = tf.zeros([1, 4, 4, 16]);
    const applied = conv2dBackpropFilterDirect(backend, x, dy, info);
    expect(applied?.shape).toEqual([3, 3, 1, 16]);
    backend.disposeData(applied!.dataId);
    const dy5 = tf.zeros([1, 4, 4, 5]);
    expect(conv2dBackpropFilterDirect(backend, x, dy5, tf.backend_util.computeConv2DInfo([1, 6, 6, 1], [3, 3, 1, 5], [1, 1], 1, 'valid'))).toBeUndefined();
    // With padding it writes a padded copy of x, and frees it.
    const dySame = tf.zeros([1, 6, 6, 16]);
    const [tensors, ids] = [tf.memory().numTensors, backend.numDataIds()];
    const padded = conv2dBackpropFilterDirect(backend, x, dySame, tf.backend_util.computeConv2DInfo([1, 6, 6, 1], [3, 3, 1, 16], [1, 1], 1, 'same'))!;
    backend.disposeData(padded.dataId);
    expect([tf.memory().numTensors, backend.numDataIds()]).toEqual([tensors, ids]);
    tf.dispose([x, dy, dy5, dySame]);
    try {
      setFilterGradStrategy('direct');
      await checkConvGrads({ x: [2, 9, 8, 3], w: [3, 3, 3, 16], strides: 2, pad: 'same' });
      await checkConvGrads({ x: [2, 7, 7, 1], w: [3, 3, 1, 32], strides: 1, pad: 4 });
      await checkConvGrads({ x: [2, 11, 10, 3], w: [3, 3, 3, 16], strides: 3, pad: 'valid' });
      await checkConvGrads({ x: [1, 9, 9, 2], w: [2, 2, 2, 48], strides: 1, pad: [[0, 0], [1, 0], [2, 1], [0, 0]] });
      await checkConvGrads({ x: [2, 9, 8, 4], w: [5, 3, 4, 16], strides: [2, 1], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
      await checkConvGrads({ x: [2, 7, 7, 1], w: [3, 3, 1, 5], strides: 1, pad: 'same' }); // not in 16s: the other paths
    } finally {
      setFilterGradStrategy('auto');
    }
  });
});

describe('the MNIST CNN shapes', () => {
  // input [N,28,28,1] -> conv 32·3x3 valid -> maxpool 2 -> conv 64·3x3 valid -> maxpool 2
  it('conv1 [N,28,28,1]*[3,3,1,32] and conv2 [N,13,13,32]*[3,3,32,64]', async () => {
    for (const n of [1, 3]) {
      await checkConvGrads({ x: [n, 28, 28, 1], w: [3, 3, 1, 32], strides: 1, pad: 'valid' });
      await checkConvGrads({ x: [n, 13, 13, 32], w: [3, 3, 32, 64], strides: 1, pad: 'valid' });
    }
  });

  it('maxpool gradients [N,26,26,32] -> 13 and [N,11,11,64] -> 5', async () => {
    for (const shape of [
      [3, 26, 26, 32],
      [3, 11, 11, 64],
    ] as Shape4[]) {
      // relu'd input: lots of exact ties at 0, where only the first maximum may get the gradient
      const xv = randomArray(size(shape)).map((v) => Math.max(0, v));
      const pooled = [shape[0], Math.floor(shape[1] / 2), Math.floor(shape[2] / 2), shape[3]];
      const dyv = randomArray(size(pooled));
      await expectSameOnBoth(`maxPool grad ${shape.join(',')}`, () =>
        tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'))(tf.tensor4d(xv, shape), tf.tensor4d(dyv, pooled as Shape4)),
      );
    }
  });

  it('end-to-end: softmax cross-entropy gradients w.r.t. input and all weights', async () => {
    const n = 3;
    const shapes = {
      w1: [3, 3, 1, 32],
      b1: [32],
      w2: [3, 3, 32, 64],
      b2: [64],
      w3: [1600, 128],
      b3: [128],
      w4: [128, 10],
      b4: [10],
    } as const;
    const values = Object.fromEntries(
      Object.entries(shapes).map(([k, s]) => [k, randomArray(size(s), -0.2, 0.2)]),
    ) as Record<keyof typeof shapes, Float32Array>;
    const xv = randomArray(n * 28 * 28, 0, 1);
    const labels = Array.from({ length: n }, (_, i) => (i * 7) % 10);
    await expectSameOnBoth('CNN grads', () => {
      const p = Object.fromEntries(
        Object.entries(shapes).map(([k, s]) => [k, tf.tensor(values[k as keyof typeof shapes], [...s])]),
      ) as Record<keyof typeof shapes, tf.Tensor>;
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const loss = (x: tf.Tensor4D, w1: tf.Tensor4D, w2: tf.Tensor4D, w3: tf.Tensor2D, w4: tf.Tensor2D): tf.Scalar => {
        let h = tf.relu(tf.add<tf.Tensor4D>(tf.conv2d(x, w1, 1, 'valid'), p.b1));
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.relu(tf.add<tf.Tensor4D>(tf.conv2d(h, w2, 1, 'valid'), p.b2));
        h = tf.maxPool(h, 2, 2, 'valid');
        const f = tf.reshape(h, [n, 1600]);
        const d = tf.relu(tf.add(tf.matMul(f, w3), p.b3));
        const logits = tf.add(tf.matMul(d, w4), p.b4);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const grads = tf.grads((x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor, w4: tf.Tensor) =>
        loss(x as tf.Tensor4D, w1 as tf.Tensor4D, w2 as tf.Tensor4D, w3 as tf.Tensor2D, w4 as tf.Tensor2D),
      );
      return grads([tf.tensor4d(xv, [n, 28, 28, 1]), p.w1, p.w2, p.w3, p.w4]);
    });
  });
});

describe('end-to-end tf.grad of a conv2d loss', () => {
  const cases: ConvCase[] = [
    { x: [2, 9, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { x: [2, 9, 8, 3], w: [3, 3, 3, 4], strides: 2, pad: 'valid' },
    { x: [1, 10, 10, 16], w: [5, 5, 16, 8], strides: 2, pad: 2 },
  ];
  for (const c of cases) {
    it(label(c), async () => {
      const xv = randomArray(size(c.x));
      const wv = randomArray(size(c.w));
      const y = outShape(c.x, c.w, c.strides, c.pad) as Shape4;
      const rv = randomArray(size(y));
      await expectSameOnBoth(label(c), () => {
        const r = tf.tensor4d(rv, y);
        const f = (x: tf.Tensor, w: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad)), r));
        return tf.grads(f)([tf.tensor4d(xv, c.x), tf.tensor4d(wv, c.w)]);
      });
    });
  }

  it('second order: gradient of the input gradient w.r.t. the filter', async () => {
    const xv = randomArray(2 * 7 * 7 * 3);
    const wv = randomArray(3 * 3 * 3 * 4);
    await expectSameOnBoth('d/dw sum(dloss/dx)', () => {
      const x = tf.tensor4d(xv, [2, 7, 7, 3]);
      const inner = (w: tf.Tensor): tf.Tensor =>
        tf.sum(tf.square(tf.grad((xx: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'))))(x)));
      return tf.grad(inner)(tf.tensor4d(wv, [3, 3, 3, 4]));
    });
  });
});

describe('MaxPoolGrad vs cpu', () => {
  const cases: Array<{ x: Shape4; f: number | [number, number]; s: number | [number, number]; pad: 'valid' | 'same' | number }> = [
    { x: [2, 8, 8, 3], f: 2, s: 2, pad: 'valid' },
    { x: [2, 9, 7, 5], f: 2, s: 2, pad: 'valid' },
    { x: [2, 9, 7, 5], f: 2, s: 2, pad: 'same' },
    { x: [2, 9, 9, 4], f: 3, s: 2, pad: 'same' }, // overlapping windows accumulate
    { x: [1, 7, 7, 2], f: 3, s: 1, pad: 1 },
    { x: [2, 13, 13, 3], f: 3, s: 3, pad: 'valid' },
    { x: [1, 6, 9, 2], f: [2, 3], s: [2, 3], pad: 'valid' },
  ];
  for (const c of cases) {
    it(`x[${c.x.join(',')}] f${JSON.stringify(c.f)} s${JSON.stringify(c.s)} ${JSON.stringify(c.pad)}`, async () => {
      // coarse values: many ties, including exact ties with the window maximum
      const xv = randomArray(size(c.x)).map((v) => Math.round(v * 2) / 2);
      await expectSameOnBoth('maxPool grad', () => {
        const x = tf.tensor4d(xv, c.x);
        const y = tf.maxPool(x, c.f, c.s, c.pad);
        const dy = tf.tensor4d(randomArrayFixed(size(y.shape)), y.shape);
        return tf.grad((xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, c.f, c.s, c.pad))(x, dy);
      });
    });
  }

  it('-Infinity / NaN never win a window, like cpu', async () => {
    const xv = new Float32Array(16).fill(-Infinity);
    xv[5] = 1;
    xv[2] = NaN; // first element of the top-right window
    xv[11] = NaN; // last element of the bottom-right window
    await expectSameOnBoth('maxPool grad -inf', () =>
      tf.grad((xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, 2, 2, 'valid'))(tf.tensor4d(xv, [1, 4, 4, 1]), tf.ones([1, 2, 2, 1])),
    );
  });
});

/** Deterministic by size, so cpu and wasm runs of the same closure see the same dy. */
function randomArrayFixed(n: number): Float32Array {
  const next = rng(12345 + n);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
}

describe('BatchMatMul with transposes vs cpu', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as Array<[boolean, boolean]>) {
    it(`transposeA=${ta} transposeB=${tb}`, async () => {
      const av = randomArray(37 * 19);
      const bv = randomArray(19 * 23);
      const aShape: [number, number] = ta ? [19, 37] : [37, 19];
      const bShape: [number, number] = tb ? [23, 19] : [19, 23];
      await expectSameOnBoth('2D', () => tf.matMul(tf.tensor2d(av, aShape), tf.tensor2d(bv, bShape), ta, tb));
      await expectSameOnBoth('3D batch 1', () =>
        tf.matMul(tf.tensor3d(av, [1, ...aShape]), tf.tensor3d(bv, [1, ...bShape]), ta, tb),
      );
      const a2 = randomArray(2 * 37 * 19);
      await expectSameOnBoth('batched (stock kernel)', () =>
        tf.matMul(tf.tensor3d(a2, [2, ...aShape]), tf.tensor3d(bv, [1, ...bShape]), ta, tb),
      );
    });
  }
});

describe('unsupported attributes', () => {
  it('Conv2DBackpropInput falls back to the stock kernel for NCHW and dimRoundingMode', async () => {
    const dyv = randomArray(2 * 4 * 5 * 5);
    const wv = randomArray(3 * 3 * 3 * 4);
    const dyNhwc = randomArray(2 * 4 * 4 * 4);
    await expectSameOnBoth(
      'dimRoundingMode',
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(dyNhwc, [2, 4, 4, 4]), filter: tf.tensor4d(wv, [3, 3, 3, 4]) },
          { strides: 2, pad: 1, dataFormat: 'NHWC', dimRoundingMode: 'floor', inputShape: [2, 8, 8, 3] },
        ) as tf.Tensor,
    );
    await expectSameOnBoth(
      'NCHW via the kernel',
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(dyv, [2, 4, 5, 5]), filter: tf.tensor4d(wv, [3, 3, 3, 4]) },
          { strides: 1, pad: 'valid', dataFormat: 'NCHW', inputShape: [2, 3, 7, 7] },
        ) as tf.Tensor,
    );
  });

  it('Conv2DBackpropFilter throws a clear error naming the attribute', async () => {
    await tf.setBackend('wasm');
    const call = (attrs: Record<string, unknown>): void => {
      tf.tidy(() => {
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.zeros([1, 6, 6, 2]), dy: tf.zeros([1, 4, 4, 3]) },
          { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3], ...attrs } as unknown as tf.NamedAttrMap,
        );
      });
    };
    expect(() => call({})).not.toThrow();
    expect(() => call({ dataFormat: 'NCHW' })).toThrow(/Conv2DBackpropFilter.*dataFormat 'NCHW'/);
    expect(() => call({ dimRoundingMode: 'ceil' })).toThrow(/Conv2DBackpropFilter.*dimRoundingMode 'ceil'/);
    expect(() => call({ dilations: [2, 2] })).toThrow(/Conv2DBackpropFilter.*dilations/);
  });
});

describe('memory', () => {
  it('no tensors or wasm buffers leak through the replaced kernels', async () => {
    await tf.setBackend('wasm');
    const run = (): void => {
      const x = tf.randomNormal([3, 13, 12, 4]) as tf.Tensor4D;
      // 4 input channels and 16 output channels, padded and strided: the direct SIMD filter gradient with its padded copy.
      const w1 = tf.randomNormal([3, 3, 4, 16]) as tf.Tensor4D;
      const w2 = tf.randomNormal([2, 2, 16, 8]) as tf.Tensor4D;
      const w3 = tf.randomNormal([8, 5]) as tf.Tensor2D;
      const f = (xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Scalar => {
        let h = tf.relu(tf.conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, 2, [[0, 0], [4, 1], [0, 2], [0, 0]]));
        h = tf.maxPool(h, 2, 1, 'same');
        h = tf.relu(tf.conv2d(h, b as tf.Tensor4D, 1, 'valid'));
        const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
        return tf.sum(tf.matMul(pooled, c as tf.Tensor2D));
      };
      const before = tf.memory().numTensors;
      const ids = tf.backend().numDataIds();
      const grads = tf.grads(f)([x, w1, w2, w3]);
      // only the 4 gradients are new
      expect(tf.memory().numTensors).toBe(before + 4);
      tf.dispose(grads);
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.backend().numDataIds()).toBe(ids);
      tf.dispose([x, w1, w2, w3]);
    };
    run();
    run();
  });

  it('a tf.layers CNN trains on wasm (Adam) without leaking', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 128, activation: 'relu' }),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const x = tf.randomUniform([8, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
    const optimizer = tf.train.adam(1e-3);
    const step = (): number =>
      tf.tidy(() => {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
          true,
        );
        return (loss as tf.Scalar).dataSync()[0] as number;
      });
    const first = step(); // creates the optimizer's slots
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 10; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });
});
