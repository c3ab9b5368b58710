/**
 * `Tile` on wasm as block copies on the heap.
 *
 * The stock kernel computes every output element's source index (about 7 ms for the
 * [128,1,1,1] → [128,28,28,1] mask that `tf.where` broadcasts in every PGD step). Here adjacent
 * axes are merged first (so that mask becomes 128 runs of one value, each a `fill`), then each
 * input row is written once and replicated with `copyWithin`.
 */
import type * as tf from '@tensorflow/tfjs';
import { callOriginal, isWasmBackend, onHeap } from './wasm-fallback.js';

type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * The same tiling on fewer axes: drops axes of size 1 that are not repeated and merges
 * neighbours (a, b) when (not repeated, not repeated), (size 1, size 1) or (size 1, not
 * repeated) — in each case the merged axis tiles exactly like the pair.
 */
export function mergeTileAxes(shape: readonly number[], reps: readonly number[]): { shape: number[]; reps: number[] } {
  const s: number[] = [];
  const r: number[] = [];
  shape.forEach((size, i) => {
    const rep = reps[i] ?? 1;
    if (size === 1 && rep === 1) return;
    const last = s.length - 1;
    if (last >= 0) {
      const [ps, pr] = [s[last]!, r[last]!];
      if (pr === 1 && rep === 1) {
        s[last] = ps * size;
        return;
      }
      if (ps === 1 && size === 1) {
        r[last] = pr * rep;
        return;
      }
      if (ps === 1 && rep === 1) {
        s[last] = size;
        return;
      }
    }
    s.push(size);
    r.push(rep);
  });
  if (s.length === 0) return { shape: [1], reps: [1] };
  return { shape: s, reps: r };
}

/** out = tile(src, reps) with src of `shape` (after mergeTileAxes); both row-major. */
export function tileInto(src: HeapArray, shape: readonly number[], reps: readonly number[], out: HeapArray): void {
  const rank = shape.length;
  const outInner = new Array<number>(rank + 1).fill(1);
  const srcInner = new Array<number>(rank + 1).fill(1);
  for (let a = rank - 1; a >= 0; a--) {
    outInner[a] = outInner[a + 1]! * shape[a]! * reps[a]!;
    srcInner[a] = srcInner[a + 1]! * shape[a]!;
  }
  const fillAxis = (axis: number, srcOff: number, outOff: number): void => {
    const size = shape[axis]!;
    const rep = reps[axis]!;
    if (axis === rank - 1) {
      if (size === 1) {
        out.fill(src[srcOff]!, outOff, outOff + rep);
        return;
      }
      out.set(src.subarray(srcOff, srcOff + size), outOff);
    } else {
      const srcStep = srcInner[axis + 1]!;
      const outStep = outInner[axis + 1]!;
      for (let i = 0; i < size; i++) fillAxis(axis + 1, srcOff + i * srcStep, outOff + i * outStep);
    }
    // The first copy of this axis is written; replicate it, doubling the copied span each time.
    const block = size * outInner[axis + 1]!;
    for (let done = 1; done < rep; ) {
      const n = Math.min(done, rep - done);
      out.copyWithin(outOff + done * block, outOff, outOff + n * block);
      done += n;
    }
  };
  fillAxis(0, 0, 0);
}

export const tileKernel: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs['x'];
  const reps = (attrs as { reps?: number[] } | undefined)?.reps;
  if (
    x === undefined ||
    reps === undefined ||
    reps.length !== x.shape.length ||
    !reps.every((r) => Number.isInteger(r) && r >= 0) ||
    !onHeap(x.dtype) ||
    !isWasmBackend(backend)
  ) {
    return callOriginal('Tile', args, `input ${x?.dtype ?? 'missing'} or reps ${JSON.stringify(reps)}`);
  }
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  // Allocate first: allocation may grow the wasm memory, which detaches earlier heap views.
  const out = backend.makeOutput(outShape, x.dtype);
  if (outShape.some((d) => d === 0)) return out;
  const dst = backend.typedArrayFromHeap(out) as HeapArray;
  const src = backend.typedArrayFromHeap(x) as HeapArray;
  const merged = mergeTileAxes(x.shape, reps);
  tileInto(src, merged.shape, merged.reps, dst);
  return out;
};
