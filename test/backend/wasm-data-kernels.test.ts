/**
 * The wasm replacements for Identity, Cast, Tile and Sum (src/backend/wasm-alias-kernels.ts,
 * wasm-tile.ts, wasm-sum.ts) against the cpu backend (see cpu-reference.ts), their fallbacks to
 * the stock kernels, and their memory accounting.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmGradKernels, unregisterWasmGradKernels } from '../../src/backend/wasm-kernels.js';
import { mergeTileAxes } from '../../src/backend/wasm-tile.js';
import { expectSameOnBoth, randomArray, size } from './cpu-reference.js';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  await tf.ready();
  registerWasmGradKernels();
  await tf.setBackend('cpu');
  await tf.ready();
  await tf.setBackend('wasm');
});

/** Runs `fn` on wasm with the stock kernels registered instead of ours. */
function withStockKernels<T>(fn: () => T): T {
  unregisterWasmGradKernels();
  try {
    return fn();
  } finally {
    registerWasmGradKernels();
  }
}

describe('Identity and same-dtype Cast share the buffer', () => {
  it('clone, cast and the relu gradient agree with cpu', async () => {
    const v = randomArray(4 * 5 * 3);
    await expectSameOnBoth('clone', () => tf.clone(tf.tensor3d(v, [4, 5, 3])));
    await expectSameOnBoth('cast float32→float32', () => tf.cast(tf.tensor1d(v), 'float32'));
    await expectSameOnBoth('cast int32→int32', () => tf.cast(tf.tensor1d([1, -2, 3], 'int32'), 'int32'));
    await expectSameOnBoth('cast bool→bool', () => tf.cast(tf.tensor1d([1, 0, 1], 'bool'), 'bool'));
    await expectSameOnBoth('relu gradient', () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), x)))(tf.tensor1d(v)));
  });

  it('a real conversion goes to the stock Cast kernel', async () => {
    await tf.setBackend('wasm');
    const values = [1.7, -2.2, 0, 3.9];
    const ours = tf.tidy(() => Array.from(tf.cast(tf.tensor1d(values), 'int32').dataSync()));
    const stock = withStockKernels(() => tf.tidy(() => Array.from(tf.cast(tf.tensor1d(values), 'int32').dataSync())));
    expect(ours).toEqual(stock);
    expect(tf.tidy(() => tf.cast(tf.tensor1d(values), 'bool').dtype)).toBe('bool');
  });

  it('the shared buffer lives until its last tensor is disposed', async () => {
    await tf.setBackend('wasm');
    const ids = tf.backend().numDataIds();
    const bytes = tf.memory().numBytes;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    const c = tf.cast(b, 'float32');
    expect(tf.backend().numDataIds()).toBe(ids + 1); // one buffer for the three tensors
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    c.dispose();
    expect(tf.backend().numDataIds()).toBe(ids);
    expect(tf.memory().numBytes).toBe(bytes);
  });

  it('variables keep their own values when the tensor they were made from is disposed', async () => {
    await tf.setBackend('wasm');
    const init = tf.tensor1d([4, 5]);
    const v = tf.variable(init);
    init.dispose();
    expect(Array.from(v.dataSync())).toEqual([4, 5]);
    v.assign(tf.tensor1d([6, 7]));
    expect(Array.from(v.dataSync())).toEqual([6, 7]);
    v.dispose();
  });
});

describe('Tile', () => {
  it('merges axes that tile alike', () => {
    expect(mergeTileAxes([128, 1, 1, 1], [1, 28, 28, 1])).toEqual({ shape: [128, 1], reps: [1, 784] });
    expect(mergeTileAxes([2, 3, 4], [1, 1, 1])).toEqual({ shape: [24], reps: [1] });
    expect(mergeTileAxes([1, 1], [2, 3])).toEqual({ shape: [1], reps: [6] });
    expect(mergeTileAxes([1, 5], [3, 1])).toEqual({ shape: [5], reps: [3] });
    expect(mergeTileAxes([2, 1], [1, 3])).toEqual({ shape: [2, 1], reps: [1, 3] });
    expect(mergeTileAxes([1, 1, 1], [1, 1, 1])).toEqual({ shape: [1], reps: [1] });
  });

  const cases: Array<[number[], number[]]> = [
    [[128, 1, 1, 1], [1, 28, 28, 1]],
    [[3], [4]],
    [[2, 3], [2, 1]],
    [[2, 3], [1, 3]],
    [[2, 3], [3, 2]],
    [[2, 1, 3], [2, 4, 1]],
    [[1, 2, 1, 3], [3, 1, 2, 2]],
    [[2, 2, 1, 2, 3], [1, 2, 3, 1, 2]],
    [[5, 1], [1, 1]],
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    it(`${dtype} vs cpu`, async () => {
      for (const [shape, reps] of cases) {
        const v = Array.from(randomArray(size(shape), -5, 5), (x) => (dtype === 'float32' ? x : Math.round(x) > 0 ? Math.round(x) : dtype === 'bool' ? 0 : Math.round(x)));
        await expectSameOnBoth(`tile [${shape.join(',')}] × [${reps.join(',')}]`, () => tf.tile(tf.tensor(v, shape, dtype), reps));
      }
    });
  }

  it('where() with a per-example mask, as the attack loop broadcasts it', async () => {
    const a = randomArray(6 * 4 * 4);
    const b = randomArray(6 * 4 * 4);
    await expectSameOnBoth('where', () => {
      const mask = tf.tensor1d([1, 0, 0, 1, 1, 0], 'bool');
      const shape: [number, number, number, number] = [6, 4, 4, 1];
      return tf.where(tf.broadcastTo(tf.reshape(mask, [6, 1, 1, 1]), shape), tf.tensor4d(a, shape), tf.tensor4d(b, shape));
    });
  });
});

describe('Sum', () => {
  const cases: Array<{ shape: number[]; axis?: number | number[]; keepDims?: boolean }> = [
    { shape: [128, 26, 26, 32], axis: [0, 1, 2] }, // the first conv's bias gradient
    { shape: [4, 11, 11, 64], axis: [0, 1, 2] },
    { shape: [3, 5, 7, 2], axis: [0, 1, 2], keepDims: true },
    { shape: [37, 19], axis: 0 }, // a dense bias gradient
    { shape: [40000, 3], axis: 0 }, // one long pooling window
    { shape: [37, 19], axis: [0], keepDims: true },
    { shape: [3, 5, 7, 2], axis: [-4, -3] },
    { shape: [1, 5, 7, 2], axis: [0, 1, 2] },
    { shape: [5, 1, 7, 2], axis: [0, 1] },
    // not leading axes, everything, a single row: the stock kernel
    { shape: [3, 5, 7, 2], axis: [1, 2] },
    { shape: [3, 5, 7, 2], axis: 3 },
    { shape: [3, 5, 7, 2] },
    { shape: [1, 6], axis: 0 },
  ];
  for (const c of cases) {
    it(`[${c.shape.join(',')}] axis ${JSON.stringify(c.axis)}${c.keepDims ? ' keepDims' : ''} vs cpu`, async () => {
      const v = randomArray(size(c.shape), -2, 2);
      await expectSameOnBoth('sum', () => tf.sum(tf.tensor(v, c.shape), c.axis, c.keepDims));
    });
  }

  it('int32 and bool go to the stock kernel', async () => {
    await expectSameOnBoth('int32', () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0));
    await expectSameOnBoth('bool', () => tf.sum(tf.tensor2d([1, 0, 1, 1, 0, 1], [3, 2], 'bool'), 0));
  });

  it('bias gradients of conv and dense layers', async () => {
    const dy = randomArray(3 * 6 * 6 * 5);
    await expectSameOnBoth('bias grads', () => {
      const b = tf.tensor1d(randomArrayFixed(5));
      return tf.grad((bias: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.add(tf.tensor4d(dy, [3, 6, 6, 5]), bias)), tf.tensor4d(dy, [3, 6, 6, 5]))))(b);
    });
  });
});

describe('memory', () => {
  it('no tensors or wasm buffers leak through Identity, Cast, Tile and Sum', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 3; i++) {
      const out = tf.tidy(() => {
        const x = tf.randomNormal([4, 5, 5, 3]);
        const m = tf.broadcastTo(tf.reshape(tf.greater(tf.sum(x, [1, 2, 3]), 0), [4, 1, 1, 1]), x.shape);
        const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.relu(tf.cast(tf.clone(xx), 'float32'))))(x);
        return tf.sum(tf.where(m, g, tf.tile(tf.sum(x, [0], true), [4, 1, 1, 1])), [0, 1, 2]);
      });
      out.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(ids);
    expect(tf.memory().numBytes).toBe(bytes);
  });
});

/** Deterministic by size, so the cpu and wasm runs of one closure see the same values. */
function randomArrayFixed(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
}
