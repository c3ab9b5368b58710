/**
 * The cases of simd-kernels.test.ts, runnable outside vitest too (simd-threads-probe.ts runs them
 * on the pthread build in a worker): each gradient is computed by tfjs's stock cpu kernels and by
 * advtest's wasm kernels, and compared bit for bit (NaN payloads aside).
 */
import * as tf from '@tensorflow/tfjs';
import { registerLazyGradients, unregisterLazyGradients } from '../../src/backend/lazy-grads.js';
import { rng } from '../helpers/rng.js';

type Shape4 = [number, number, number, number];

/** Values where a compare or a multiply can go wrong: NaN, ±Infinity, ±0, the bounds 0 and 6 and their neighbours. */
const SPECIAL = [NaN, -Infinity, Infinity, -0, 0, -1, 1e-7, -1e-45, 2.5, 6, 6.0001, 7];

/** float32 neighbours of v (v itself included). */
function neighbours(v: number): number[] {
  const f = new Float32Array([v, v, v]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] as number) - 1;
  u[2] = (u[2] as number) + 1;
  return Array.from(f);
}

/** Every special x with every special dy, then seeded normal noise; an odd length, for the scalar tail. */
export function clipInputs(): { x: Float32Array; dy: Float32Array } {
  const xs = [...SPECIAL, ...neighbours(0.1), ...neighbours(0.7), ...neighbours(6)];
  const dys = [...SPECIAL, -3.5];
  const next = rng(7);
  const noise = 4099;
  const x = new Float32Array(xs.length * dys.length + noise);
  const dy = new Float32Array(x.length);
  let i = 0;
  for (const a of xs) for (const b of dys) (x[i] = a), (dy[i++] = b);
  for (; i < x.length; i++) (x[i] = 8 * next() - 1), (dy[i] = 2 * next() - 1);
  return { x, dy };
}

export const CLIP_CASES: Array<[string, (t: tf.Tensor) => tf.Tensor]> = [
  ['relu', (t) => tf.relu(t)],
  ['relu6', (t) => tf.relu6(t)],
  ['clipByValue(0, 6)', (t) => tf.clipByValue(t, 0, 6)],
  // Bounds that float32 cannot hold: the SIMD kernel compares in float32 (float32-bounds.ts).
  ['clipByValue(0.1, 0.7)', (t) => tf.clipByValue(t, 0.1, 0.7)],
  ['clipByValue(-1e-45, 1e39)', (t) => tf.clipByValue(t, -1e-45, 1e39)],
];

export interface PoolCase {
  x: Shape4;
  f: number | [number, number];
  s: number | [number, number];
  pad: 'valid' | 'same' | number;
}

export const POOL_CASES: PoolCase[] = [
  { x: [2, 8, 8, 4], f: 2, s: 2, pad: 'valid' },
  { x: [2, 8, 6, 5], f: 2, s: 2, pad: 'valid' }, // windows tile x, channels not in fours
  { x: [2, 9, 7, 5], f: 2, s: 2, pad: 'same' },
  { x: [2, 9, 7, 5], f: 2, s: 2, pad: 'valid' },
  { x: [2, 9, 9, 8], f: 3, s: 2, pad: 'same' }, // overlapping windows sum
  { x: [1, 7, 7, 3], f: 3, s: 1, pad: 1 },
  { x: [2, 13, 13, 1], f: 3, s: 3, pad: 'valid' },
  { x: [1, 6, 9, 13], f: [2, 3], s: [2, 3], pad: 'valid' },
  { x: [1, 10, 10, 4], f: 3, s: 1, pad: 'same' },
  { x: [3, 5, 6, 6], f: [3, 2], s: [1, 2], pad: 'same' },
  { x: [2, 12, 12, 32], f: 2, s: 2, pad: 'valid' }, // the MNIST CNN's pooling, smaller
];

export function poolLabel(c: PoolCase): string {
  return `maxPool x[${c.x.join(',')}] f${JSON.stringify(c.f)} s${JSON.stringify(c.s)} ${JSON.stringify(c.pad)}`;
}

/** Coarse values (ties with the window maximum), some NaN / ±Infinity; dy with -0s. */
export function poolInputs(c: PoolCase, outSize: number): { x: Float32Array; dy: Float32Array } {
  const next = rng(c.x.reduce((a, b) => a * 31 + b, 17));
  const size = c.x.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size }, () => {
    const u = next();
    if (u < 0.02) return NaN;
    if (u < 0.05) return -Infinity;
    if (u < 0.06) return Infinity;
    return Math.round(next() * 8 - 4) / 2;
  });
  const dy = Float32Array.from({ length: outSize }, () => (next() < 0.1 ? -0 : 2 * next() - 1));
  return { x, dy };
}

/**
 * fn's result on `backend`. On wasm the heap is first filled with NaN where the output will most
 * likely be allocated (a freed block of its size), so that an element a kernel forgets to write shows.
 */
async function values(backend: 'cpu' | 'wasm', fn: () => tf.Tensor, outSize: number): Promise<Float32Array> {
  await tf.setBackend(backend);
  if (backend === 'wasm') tf.fill([outSize], NaN).dispose();
  const t = tf.tidy(fn);
  const v = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return v;
}

/** Count of elements whose bits differ (both NaN counts as equal). */
export function bitDifferences(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Math.max(got.length, want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let n = 0;
  for (let i = 0; i < g.length; i++) if (g[i] !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) n++;
  return n;
}

/**
 * Every case on cpu (tfjs's stock gradients) and on `backend` with advtest's kernels (on cpu: the
 * JS AdvtestClipGrad kernel; MaxPoolGrad is tfjs's there); returns `label: N elements differ` for
 * each case that is not bit for bit the same. Leaves wasm active.
 */
export async function compareWithCpu(backend: 'wasm' | 'cpu' = 'wasm'): Promise<string[]> {
  const bad: string[] = [];
  const { x, dy } = clipInputs();
  for (const [label, f] of CLIP_CASES) {
    const fn = (): tf.Tensor => tf.grad(f)(tf.tensor1d(x), tf.tensor1d(dy));
    unregisterLazyGradients();
    const want = await values('cpu', fn, x.length);
    registerLazyGradients();
    const got = await values(backend, fn, x.length);
    const n = bitDifferences(got, want);
    if (n > 0) bad.push(`${label}: ${n} elements differ`);
  }
  for (const c of backend === 'wasm' ? POOL_CASES : []) {
    const outShape = tf.tidy(() => tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.f, c.s, c.pad).shape);
    const { x: xv, dy: dyv } = poolInputs(c, outShape.reduce((a, b) => a * b, 1));
    const fn = (): tf.Tensor => tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, c.f, c.s, c.pad))(tf.tensor4d(xv, c.x), tf.tensor4d(dyv, outShape));
    const want = await values('cpu', fn, xv.length);
    const got = await values('wasm', fn, xv.length);
    const n = bitDifferences(got, want);
    if (n > 0) bad.push(`${poolLabel(c)}: ${n} elements differ`);
  }
  await tf.setBackend('wasm');
  return bad;
}
