import * as tf from '@tensorflow/tfjs';
import { IntegrityError } from '../errors.js';
import { clipToBox, exactSign } from './norms.js';
import type { Bounds, Norm } from '../types.js';

/** Slack for float32 round-off in the budget check. */
export const BUDGET_TOLERANCE = 1e-6;

/**
 * What the harness does to every attack output: project onto the ε-ball around x0 and the
 * input box, then verify both per example. A violation is a bug, so it throws.
 */
export function finalizeAdversarial(raw: tf.Tensor4D, x0: tf.Tensor4D, eps: number, norm: Norm, bounds: Bounds, attackName: string): tf.Tensor4D {
  const out = tf.tidy(() => clipToBox(norm.project(raw, x0, eps), bounds.lower, bounds.upper));
  const [dist, lo, hi] = tf.tidy(() => [norm.distance(out, x0), tf.min(out), tf.max(out)]);
  const d = dist!.dataSync();
  const low = lo!.dataSync()[0]!;
  const high = hi!.dataSync()[0]!;
  dist!.dispose();
  lo!.dispose();
  hi!.dispose();
  // Tolerance relative to the input scale: clipping at the box can shift float32 values by an ulp.
  const tol = BUDGET_TOLERANCE * Math.max(1, bounds.upper - bounds.lower);
  for (let i = 0; i < d.length; i++) {
    if (!(d[i]! <= eps + tol)) {
      out.dispose();
      throw new IntegrityError(`${attackName}: example ${i} is at ${norm.name} distance ${d[i]} > ε = ${eps} after projection`);
    }
  }
  if (!(low >= bounds.lower - tol && high <= bounds.upper + tol)) {
    out.dispose();
    throw new IntegrityError(`${attackName}: output range [${low}, ${high}] leaves the input box [${bounds.lower}, ${bounds.upper}]`);
  }
  return out;
}

/** The image a lossless 8-bit file would hold: each value rounded to the nearest of 256 levels. */
export function quantize8(x: tf.Tensor4D, bounds: Bounds): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = 255 / (bounds.upper - bounds.lower);
    const levels = tf.round(tf.mul(tf.sub(x, bounds.lower), scale));
    return tf.add(tf.div(levels, scale), bounds.lower) as tf.Tensor4D;
  });
}

/**
 * 8-bit image of an adversarial example that never exceeds the budget: each pixel's change is
 * truncated toward the original, so when x0 itself is 8-bit (it came from a file) every L_p
 * distance can only shrink.
 */
export function quantize8WithinBudget(adv: tf.Tensor4D, x0: tf.Tensor4D, bounds: Bounds): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = 255 / (bounds.upper - bounds.lower);
    const base = tf.round(tf.mul(tf.sub(x0, bounds.lower), scale));
    // 1e-3 of a level absorbs float error so that an intended +8/255 stays 8 levels.
    const steps = tf.mul(exactSign(tf.sub(adv, x0)), tf.floor(tf.add(tf.abs(tf.mul(tf.sub(adv, x0), scale)), 1e-3)));
    const levels = tf.clipByValue(tf.add(base, steps), 0, 255);
    return tf.add(tf.div(levels, scale), bounds.lower) as tf.Tensor4D;
  });
}
