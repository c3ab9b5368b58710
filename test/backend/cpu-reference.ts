/**
 * Helpers for testing wasm kernels against the cpu backend's: identical inputs are run on 'cpu'
 * (reference) and on 'wasm', and compared to 1e-4 relative (max |a-b| / max(1, max |b|)).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

export const TOL = 1e-4;

/** mulberry32: reproducible inputs. */
import { rng } from '../helpers/rng.js';
export { rng };

let seed = 1;
/** Uniform values in [lo, hi), a fresh stream per call. */
export function randomArray(size: number, lo = -1, hi = 1): Float32Array {
  const next = rng(seed++);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  if (Number.isNaN(diff)) return Infinity;
  return diff / Math.max(1, scale);
}

interface Run {
  values: Array<Float32Array | Int32Array | Uint8Array>;
  shapes: number[][];
  dtypes: tf.DataType[];
}

/** Runs `fn` on one backend, copying every output to the host before disposing it. */
export async function runOn(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Run> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const list = Array.isArray(outs) ? outs : [outs];
  const run: Run = {
    values: list.map((t) => (t.dataSync() as Float32Array | Int32Array | Uint8Array).slice()),
    shapes: list.map((t) => t.shape.slice()),
    dtypes: list.map((t) => t.dtype),
  };
  tf.dispose(list);
  return run;
}

/** Same function on cpu (reference) and wasm; asserts shapes and dtypes equal and values within TOL. */
export async function expectSameOnBoth(label: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('wasm', fn);
  expect(got.shapes, label).toEqual(ref.shapes);
  expect(got.dtypes, label).toEqual(ref.dtypes);
  ref.values.forEach((r, i) => {
    const err = relErr(got.values[i]!, r);
    expect(err, `${label} output ${i}: relative error ${err}`).toBeLessThanOrEqual(TOL);
  });
}

/**
 * `reference` on cpu against `fn` on `backend` (wasm unless told): for when cpu's own kernel for
 * `fn` is too slow to be the reference and an equivalent computation is not.
 */
export async function expectSameAs(label: string, reference: () => tf.Tensor | tf.Tensor[], fn: () => tf.Tensor | tf.Tensor[], backend: 'cpu' | 'wasm' = 'wasm'): Promise<void> {
  const ref = await runOn('cpu', reference);
  const got = await runOn(backend, fn);
  expect(got.shapes, label).toEqual(ref.shapes);
  expect(got.dtypes, label).toEqual(ref.dtypes);
  ref.values.forEach((r, i) => {
    const err = relErr(got.values[i]!, r);
    expect(err, `${label} output ${i}: relative error ${err}`).toBeLessThanOrEqual(TOL);
  });
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
