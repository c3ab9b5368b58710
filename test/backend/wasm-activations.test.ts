import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByValueKernel, relu6Kernel, reluKernel } from '../../src/backend/wasm-activations.js';
import { registerWasmGradKernels, unregisterWasmGradKernels } from '../../src/backend/wasm-kernels.js';
import { makeRng } from '../../src/tensor/random.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

// Special values first, then 1,027 values (not a multiple of 4: the scalar tail runs too) around both bends.
const SPECIAL = [NaN, -NaN, -Infinity, Infinity, -0, 0, -1, 0.1, 0.3, 0.5, -0.5, 6, 6.000001, 5.999999, 7, -3.4e38, 3.4e38, 1e-45, -1e-45];
function values(): Float32Array {
  const rng = makeRng('activations');
  return Float32Array.from([...SPECIAL, ...Array.from({ length: 1027 }, () => (rng() - 0.3) * 10)]);
}

const CASES: [string, (x: tf.Tensor) => tf.Tensor][] = [
  ['Relu', (x) => tf.relu(x)],
  ['Relu6', (x) => tf.relu6(x)],
  ['ClipByValue [0, 6]', (x) => tf.clipByValue(x, 0, 6)],
  ['ClipByValue [-0.5, 0.5]', (x) => tf.clipByValue(x, -0.5, 0.5)],
  // Bounds that are not float32 numbers: the kernel compares with their float32 roundings.
  ['ClipByValue [0.1, 0.3]', (x) => tf.clipByValue(x, 0.1, 0.3)],
];

function run(op: (x: tf.Tensor) => tf.Tensor, shape: number[]): Float32Array {
  return tf.tidy(() => op(tf.tensor(values(), shape)).dataSync() as Float32Array);
}

describe('Relu, Relu6 and ClipByValue as SIMD loops on the wasm heap', () => {
  beforeAll(useTestBackend);

  it('are the kernels registered for wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Relu', 'wasm')?.kernelFunc).toBe(reluKernel);
    expect(tf.getKernel('Relu6', 'wasm')?.kernelFunc).toBe(relu6Kernel);
    expect(tf.getKernel('ClipByValue', 'wasm')?.kernelFunc).toBe(clipByValueKernel);
  });

  it.each(CASES)('%s gives the stock kernel\'s values bit for bit, NaN, ±Infinity and -0 included', (_name, op) => {
    const shape = [values().length];
    const ours = run(op, shape);
    unregisterWasmGradKernels();
    let stock: Float32Array;
    try {
      stock = run(op, shape);
    } finally {
      registerWasmGradKernels();
    }
    // Object.is: NaN matches NaN, -0 does not match +0.
    const mismatches = Array.from(ours).flatMap((v, i) => (Object.is(v, stock[i]) ? [] : [`x=${values()[i]}: ours ${v}, stock ${stock[i]}`]));
    expect(mismatches).toEqual([]);
    // Inputs below, inside and above the bounds (else the comparison would prove little).
    expect(new Set(Array.from(ours).map(String)).size).toBeGreaterThan(10);
  });

  it('leave no tensor behind and keep the input shape', async () => {
    expect(await leakedTensors(() => tf.tidy(() => CASES.forEach(([, op]) => expect(op(tf.ones([2, 3, 5, 7])).shape).toEqual([2, 3, 5, 7]))))).toBe(0);
  });
});
