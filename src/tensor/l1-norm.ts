import * as tf from '@tensorflow/tfjs';
import type { Norm } from '../types.js';
import { deriveSeed, makeRng } from './random.js';
import { tidyValue } from './read.js';

/**
 * The L1 threat model: ε bounds Σ|δ_i| over every value of the image (channels count apiece).
 * Minimal attacks only (FAB-L1, FMN-L1): a gradient loop has no useful L1 steepest step (it
 * would move one coordinate at a time), so gradient-loop attacks refuse it.
 *
 * Distances are summed in float64 on the host: a float32 sum of 784 values can be off by more
 * than the harness's 1e-6 budget slack, and the projection must agree with the check.
 */

/** Per example, Σ|a − b| with the float32 differences summed in float64. */
function rowSums(a: tf.Tensor4D, b: tf.Tensor4D): Float64Array {
  const diff = tidyValue(() => tf.sub(a, b));
  const n = a.shape[0];
  const d = n === 0 ? 0 : diff.length / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = i * d; p < (i + 1) * d; p++) s += Math.abs(diff[p]!);
    out[i] = s;
  }
  return out;
}

/**
 * Euclidean projection of v onto {‖z‖₁ ≤ r} in place (Duchi et al. 2008: sort |v|, find the
 * threshold θ, shrink every |v_i| by θ), as FMN's reference (adv_lib's l1_projection_) does.
 */
export function projectOntoL1Ball(v: Float64Array | Float32Array, r: number): void {
  let total = 0;
  for (let i = 0; i < v.length; i++) total += Math.abs(v[i]!);
  if (total <= r) return;
  if (r <= 0) {
    v.fill(0);
    return;
  }
  const u = Float64Array.from(v, Math.abs).sort().reverse();
  let sum = 0;
  let theta = 0;
  for (let j = 0; j < u.length; j++) {
    sum += u[j]!;
    const t = (sum - r) / (j + 1);
    if (u[j]! - t > 0) theta = t;
    else break;
  }
  for (let i = 0; i < v.length; i++) v[i] = Math.sign(v[i]!) * Math.max(Math.abs(v[i]!) - theta, 0);
}

export const l1: Norm = {
  name: 'l1',
  distance: (a, b) => tf.tensor1d(Float32Array.from(rowSums(a, b))),
  // Uniform in the ball: v_i = s_i·e_i / Σ_{j≤d+1} e_j with e_j ~ Exp(1), s_i random signs.
  randomStart: (x0, eps, seed) => {
    const [n] = x0.shape;
    const d = n === 0 ? 0 : x0.size / n;
    const delta = new Float32Array(x0.size);
    for (let i = 0; i < n; i++) {
      const rng = makeRng(deriveSeed(typeof seed === 'number' ? seed : seed[i]!, 0x12, typeof seed === 'number' ? i : 0));
      const e = Float64Array.from({ length: d + 1 }, () => -Math.log(Math.max(rng(), 1e-300)));
      const total = e.reduce((s, v) => s + v, 0);
      for (let p = 0; p < d; p++) delta[i * d + p] = ((rng() < 0.5 ? -1 : 1) * eps * e[p]!) / total;
    }
    return tf.tidy(() => tf.add(x0, tf.tensor4d(delta, x0.shape)));
  },
  normalize: () => {
    throw new Error('the l1 threat model has no steepest-ascent step here: gradient-loop attacks cannot use it (a bug if reached)');
  },
  // The nearest point in L2, then shrunk until the float32 image is within ε by the float64 sum.
  project: (x, x0, eps) => {
    const [n] = x.shape;
    if (n === 0) return tf.clone(x);
    const d = x.size / n;
    const base = x0.dataSync() as Float32Array;
    const delta = Float64Array.from(tidyValue(() => tf.sub(x, x0)));
    const out = new Float32Array(x.size);
    for (let i = 0; i < n; i++) {
      const row = delta.subarray(i * d, (i + 1) * d);
      projectOntoL1Ball(row, eps);
      // float32 rounding of x0 + δ can add up to half an ulp per value: shrink until it fits.
      for (let attempt = 0; ; attempt++) {
        let s = 0;
        for (let p = 0; p < d; p++) {
          out[i * d + p] = base[i * d + p]! + row[p]!;
          s += Math.abs(Math.fround(out[i * d + p]! - base[i * d + p]!));
        }
        if (s <= eps || attempt === 20) break;
        const scale = (eps / s) * (1 - 1e-7 * 2 ** attempt);
        for (let p = 0; p < d; p++) row[p] = row[p]! * scale;
      }
    }
    return tf.tensor4d(out, x.shape);
  },
};
