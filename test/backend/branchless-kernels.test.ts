// The branch-free inner loop of the ReLU-family gradient (AdvtestClipGrad, lazy-grads.ts), issue 21,
// and the 2×2 MaxPoolGrad (whose branchy loop stays: the branch-free one measured slower): bit for bit the stock tfjs results on every
// combination of the values where a branch-free form could differ (NaN, ±Infinity, ±0, ties).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerLazyGradients, unregisterLazyGradients } from '../../src/backend/lazy-grads.js';
import { initBackend } from '../../src/backend/select.js';
import { runOn } from './cpu-reference.js';

beforeAll(async () => {
  await initBackend('wasm', { threads: 1 });
});

/** Same bits, or both NaN (NaN payloads are not part of anyone's contract). */
function expectSameBits(got: Float32Array, want: Float32Array, label: string): void {
  expect(got.length, label).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const bothNaN = Number.isNaN(got[i]) && Number.isNaN(want[i]);
    if (!bothNaN && g[i] !== w[i]) bad.push(`#${i}: ${Object.is(got[i], -0) ? '-0' : got[i]} vs ${Object.is(want[i], -0) ? '-0' : want[i]}`);
  }
  expect(bad.slice(0, 5), `${label}: ${bad.length} elements differ`).toEqual([]);
}

const SPECIAL = [NaN, -Infinity, Infinity, -0, 0, -1, 1e-7, 2.5, 6, 6.0001, 7];

describe('ReLU / Relu6 gradient without branches', () => {
  it('equals tfjs stock dy·step(x) bit for bit for every special x × dy', async () => {
    const xs: number[] = [];
    const dys: number[] = [];
    for (const x of SPECIAL) for (const dy of SPECIAL) (xs.push(x), dys.push(dy));
    // Long enough that the loop is optimised, like the 2.7M-element tensors of the CNN.
    const reps = 64;
    const x = Float32Array.from({ length: xs.length * reps }, (_, i) => xs[i % xs.length]!);
    const dy = Float32Array.from({ length: dys.length * reps }, (_, i) => dys[i % dys.length]!);
    for (const [name, f] of [
      ['relu', (t: tf.Tensor) => tf.relu(t)],
      ['relu6', (t: tf.Tensor) => tf.relu6(t)],
    ] as const) {
      const fn = (): tf.Tensor => tf.grad(f)(tf.tensor1d(x), tf.tensor1d(dy));
      unregisterLazyGradients();
      const ref = await runOn('cpu', fn);
      registerLazyGradients();
      const got = await runOn('wasm', fn);
      expectSameBits(got.values[0] as Float32Array, ref.values[0] as Float32Array, name);
    }
  });
});

describe('2×2 MaxPoolGrad without branches', () => {
  it('equals the stock cpu kernel on every window over {NaN, -Inf, -1, 0, 1, Inf}', async () => {
    const vals = [NaN, -Infinity, -1, 0, 1, Infinity];
    const windows: number[][] = [];
    for (const a of vals) for (const b of vals) for (const c of vals) for (const d of vals) windows.push([a, b, c, d]);
    // Windows side by side: [1, 2, 2·W, C], C = 3 channels each holding the same windows
    // shifted, so that channel offsets are exercised too.
    const w = windows.length;
    const c = 3;
    const x = new Float32Array(2 * 2 * w * c);
    for (let k = 0; k < w; k++) {
      for (let ch = 0; ch < c; ch++) {
        const win = windows[(k + ch * 7) % w]!;
        x[(0 * 2 * w + 2 * k) * c + ch] = win[0]!;
        x[(0 * 2 * w + 2 * k + 1) * c + ch] = win[1]!;
        x[(1 * 2 * w + 2 * k) * c + ch] = win[2]!;
        x[(1 * 2 * w + 2 * k + 1) * c + ch] = win[3]!;
      }
    }
    const dy = Float32Array.from({ length: w * c }, (_, i) => 1 + (i % 13));
    const fn = (): tf.Tensor =>
      tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'))(tf.tensor4d(x, [1, 2, 2 * w, c]), tf.tensor4d(dy, [1, 1, w, c]));
    const ref = await runOn('cpu', fn);
    const got = await runOn('wasm', fn);
    expectSameBits(got.values[0] as Float32Array, ref.values[0] as Float32Array, 'maxPool grad');
  });
});
