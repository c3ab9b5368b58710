import * as tf from '@tensorflow/tfjs';
import type { Norm } from '../types.js';
import { deriveSeed, makeRng } from './random.js';
import { tidyValue } from './read.js';

/**
 * The sparse threat models. A *pixel* is every channel at one location (as in Sparse-RS, Croce et
 * al. 2022): changing R, G and B of one location costs one pixel.
 *
 * - l0: ε = the number of pixels that may change (an integer).
 * - patch: ε = the area (fraction of h·w) of one square inside which every change must lie; the
 *   square's side is ⌊√(ε·h·w)⌋ pixels, so the square never exceeds the stated area.
 *
 * A value counts as changed when it differs from the original by more than CHANGED (float32
 * round-off of an untouched pixel is far below it; one 8-bit level, 1/255, far above).
 */
export const CHANGED = 1e-6;

/** Per example and location, whether any channel changed: [n, h, w] as 0/1. */
function changedPixels(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.cast(tf.greater(tf.max(tf.abs(tf.sub(a, b)), 3), CHANGED), 'float32') as tf.Tensor3D);
}

/** The number of pixels a budget of ε allows (ε is a count; round-off of 10.0000001 is forgiven). */
export function pixelBudget(eps: number): number {
  return Math.max(0, Math.floor(eps + 1e-9));
}

/** Side in pixels of the square of area fraction ε of an h×w image: ⌊√(ε·h·w)⌋, at most min(h, w). */
export function patchSide(eps: number, h: number, w: number): number {
  return Math.max(0, Math.min(Math.floor(Math.sqrt(eps * h * w) + 1e-9), h, w));
}

function noSteepestStep(name: string): never {
  throw new Error(`the ${name} threat model has no steepest-ascent step: gradient-loop attacks cannot use it (a bug if reached)`);
}

/** Keeps, per example, the listed locations' changes (mask [n, h, w] of 0/1) and resets the rest to x0. */
function keepWhere(x: tf.Tensor4D, x0: tf.Tensor4D, mask: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => tf.where(tf.cast(tf.broadcastTo(tf.expandDims(mask, 3), x.shape), 'bool'), x, x0) as tf.Tensor4D);
}

/** Per-location squared change summed over channels, row-major [n][h·w]. */
function energy(x: tf.Tensor4D, x0: tf.Tensor4D): Float32Array {
  return tidyValue(() => tf.sum(tf.square(tf.sub(x, x0)), 3));
}

export const l0: Norm = {
  name: 'l0',
  distance: (a, b) => tf.tidy(() => tf.sum(changedPixels(a, b), [1, 2]) as tf.Tensor1D),
  // k random locations (one stream per example), each channel moved by uniform noise in [−1, 1].
  randomStart: (x0, eps, seed) => {
    const [n, h, w, c] = x0.shape;
    const k = Math.min(pixelBudget(eps), h * w);
    const delta = new Float32Array(n * h * w * c);
    for (let i = 0; i < n; i++) {
      const rng = makeRng(deriveSeed(typeof seed === 'number' ? seed : seed[i]!, 0x10, typeof seed === 'number' ? i : 0));
      const order = Array.from({ length: h * w }, (_, p) => p);
      for (let j = 0; j < k; j++) {
        const pick = j + Math.floor(rng() * (h * w - j));
        [order[j], order[pick]] = [order[pick]!, order[j]!];
        for (let ch = 0; ch < c; ch++) delta[(i * h * w + order[j]!) * c + ch] = 2 * rng() - 1;
      }
    }
    return tf.tidy(() => tf.add(x0, tf.tensor4d(delta, x0.shape)));
  },
  normalize: () => noSteepestStep('l0'),
  // The nearest point (in L2) with at most k changed locations: keep the k largest changes.
  project: (x, x0, eps) => {
    const [n, h, w] = x.shape;
    const k = pixelBudget(eps);
    if (k >= h * w) return tf.clone(x);
    const e = energy(x, x0);
    const mask = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++) {
      const row = e.subarray(i * h * w, (i + 1) * h * w);
      const order = Array.from(row.keys()).filter((p) => row[p]! > 0).sort((p, q) => row[q]! - row[p]! || p - q);
      for (const p of order.slice(0, k)) mask[i * h * w + p] = 1;
    }
    const m = tf.tensor3d(mask, [n, h, w]);
    const out = keepWhere(x, x0, m);
    m.dispose();
    return out;
  },
};

/** Per example, the side of the smallest square holding every changed location (0: none changed). */
function changedSquareSides(a: tf.Tensor4D, b: tf.Tensor4D): number[] {
  const [n, h, w] = a.shape;
  const changed = changedPixels(a, b);
  const m = changed.dataSync();
  changed.dispose();
  return Array.from({ length: n }, (_, i) => {
    let top = h;
    let bottom = -1;
    let left = w;
    let right = -1;
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        if (!m[(i * h + r) * w + col]) continue;
        top = Math.min(top, r);
        bottom = Math.max(bottom, r);
        left = Math.min(left, col);
        right = Math.max(right, col);
      }
    }
    return bottom < 0 ? 0 : Math.max(bottom - top + 1, right - left + 1);
  });
}

export const patch: Norm = {
  name: 'patch',
  // The area fraction of the smallest square holding every change, so that "≤ ε" reads
  // "changes lie inside one square of area ε".
  distance: (a, b) => {
    const [, h, w] = a.shape;
    return tf.tensor1d(changedSquareSides(a, b).map((s) => (s * s) / (h * w)));
  },
  // A random square of uniform noise in [−1, 1], at a random place.
  randomStart: (x0, eps, seed) => {
    const [n, h, w, c] = x0.shape;
    const s = patchSide(eps, h, w);
    const delta = new Float32Array(n * h * w * c);
    for (let i = 0; i < n; i++) {
      const rng = makeRng(deriveSeed(typeof seed === 'number' ? seed : seed[i]!, 0x11, typeof seed === 'number' ? i : 0));
      const top = Math.floor(rng() * (h - s + 1));
      const left = Math.floor(rng() * (w - s + 1));
      for (let r = top; r < top + s; r++) {
        for (let col = left; col < left + s; col++) {
          for (let ch = 0; ch < c; ch++) delta[((i * h + r) * w + col) * c + ch] = 2 * rng() - 1;
        }
      }
    }
    return tf.tidy(() => tf.add(x0, tf.tensor4d(delta, x0.shape)));
  },
  normalize: () => noSteepestStep('patch'),
  // The nearest point (in L2) whose changes lie in one s×s square: keep the window holding the
  // most squared change (integral image), reset everything outside it.
  project: (x, x0, eps) => {
    const [n, h, w] = x.shape;
    const s = patchSide(eps, h, w);
    const e = energy(x, x0);
    const mask = new Float32Array(n * h * w);
    const sums = new Float64Array((h + 1) * (w + 1));
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < h; r++) {
        for (let col = 0; col < w; col++) {
          sums[(r + 1) * (w + 1) + col + 1] = e[(i * h + r) * w + col]! + sums[r * (w + 1) + col + 1]! + sums[(r + 1) * (w + 1) + col]! - sums[r * (w + 1) + col]!;
        }
      }
      if (s === 0) continue;
      let best = -1;
      let at: [number, number] = [0, 0];
      for (let r = 0; r + s <= h; r++) {
        for (let col = 0; col + s <= w; col++) {
          const inside = sums[(r + s) * (w + 1) + col + s]! - sums[r * (w + 1) + col + s]! - sums[(r + s) * (w + 1) + col]! + sums[r * (w + 1) + col]!;
          if (inside > best) {
            best = inside;
            at = [r, col];
          }
        }
      }
      for (let r = at[0]; r < at[0] + s; r++) mask.fill(1, (i * h + r) * w + at[1], (i * h + r) * w + at[1] + s);
    }
    const m = tf.tensor3d(mask, [n, h, w]);
    const out = keepWhere(x, x0, m);
    m.dispose();
    return out;
  },
};
