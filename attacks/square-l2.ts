import type { Rng } from '../src/tensor/random.js';

/**
 * The L2 Square Attack's proposals (Andriushchenko et al. 2020, Algorithm 3 and §3.2; the
 * reference code's square_attack_l2, also autoattack's square.py): perturbations built from
 * "pseudo-Gaussian" bumps, and an update that moves the mass of a second window into the first.
 * One example at a time on row-major NHWC pixels, randomness from that example's own stream.
 */

/** The reference's pseudo_gaussian_pert_rectangles: concentric rectangles weighted 1/(k+1)², unit L2 norm (rows × cols, row-major). */
export function pseudoGaussianRectangle(rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  if (rows === 0 || cols === 0) return out;
  const rc = Math.floor(rows / 2) + 1;
  const cc = Math.floor(cols / 2) + 1;
  let top = rc - 1;
  let left = cc - 1;
  for (let k = 0; k < Math.max(rc, cc); k++) {
    for (let r = Math.max(top, 0); r < Math.min(top + 2 * k + 1, rows); r++) {
      for (let c = Math.max(left, 0); c < Math.min(left + 2 * k + 1, cols); c++) out[r * cols + c]! += 1 / (k + 1) ** 2;
    }
    top--;
    left--;
  }
  normalise(out);
  return out;
}

/** The reference's meta_pseudo_gaussian_pert: an s×s bump, + on the top half and − on the bottom, unit L2 norm, transposed when asked. */
export function pseudoGaussianSquare(s: number, transpose: boolean): Float64Array {
  const half = Math.floor(s / 2);
  const out = new Float64Array(s * s);
  out.set(pseudoGaussianRectangle(half, s), 0);
  const bottom = pseudoGaussianRectangle(s - half, s);
  for (let p = 0; p < bottom.length; p++) out[half * s + p] = -bottom[p]!;
  normalise(out);
  if (!transpose) return out;
  const t = new Float64Array(s * s);
  for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) t[c * s + r] = out[r * s + c]!;
  return t;
}

function normalise(v: Float64Array): void {
  let sum = 0;
  for (const x of v) sum += x * x;
  if (sum > 0) for (let p = 0; p < v.length; p++) v[p] = v[p]! / Math.sqrt(sum);
}

export interface Geometry {
  h: number;
  w: number;
  c: number;
  eps: number;
  clip: (v: number) => number;
}

/** x0 + δ·ε/‖δ‖ clipped to the box, into `out` (row-major, one example). */
function rescaleInto(out: Float32Array, x0: Float32Array, delta: Float64Array, g: Geometry): void {
  let sum = 0;
  for (const v of delta) sum += v * v;
  const scale = sum > 0 ? g.eps / Math.sqrt(sum) : 0;
  for (let p = 0; p < delta.length; p++) out[p] = g.clip(x0[p]! + delta[p]! * scale);
}

/**
 * The starting point: a grid of ⌊h/5⌋-sided bumps (5 × 5 on an image whose side is a multiple of
 * 5), each with a random sign per channel, the whole rescaled to norm ε.
 */
export function squareL2Start(x0: Float32Array, g: Geometry, rng: Rng): Float32Array {
  const { h, w, c } = g;
  const s = Math.max(1, Math.floor(h / 5));
  const offset = Math.max(0, Math.floor((h - 5 * s) / 2));
  const delta = new Float64Array(h * w * c);
  for (let a = 0; a < Math.floor(h / s); a++) {
    for (let b = 0; b < Math.floor(w / s); b++) {
      const bump = pseudoGaussianSquare(s, rng() > 0.5);
      const signs = Array.from({ length: c }, () => (rng() < 0.5 ? -1 : 1));
      for (let r = 0; r < s; r++) {
        for (let col = 0; col < s; col++) {
          const y = offset + a * s + r;
          const x = offset + b * s + col;
          if (y >= h || x >= w) continue;
          for (let ch = 0; ch < c; ch++) delta[(y * w + x) * c + ch]! += bump[r * s + col]! * signs[ch]!;
        }
      }
    }
  }
  const out = new Float32Array(h * w * c);
  rescaleInto(out, x0, delta, g);
  return out;
}

/** Side of the L2 windows at fraction p: round(√(p·h·w)), at least 3, made odd, at most min(h, w). */
export function squareL2Side(p: number, h: number, w: number): number {
  let s = Math.max(Math.round(Math.sqrt(p * h * w)), 3);
  if (s % 2 === 0) s++;
  return Math.max(1, Math.min(s, h, w));
}

/**
 * One proposal: window 1 (side s) gets a fresh bump with a random sign per channel plus its old
 * content normalised, scaled per channel to take the budget left over plus what windows 1 and 2
 * held; window 2 is emptied; the whole δ is rescaled to norm ε. Window corners are uniform in
 * [0, side − s) as in the reference (0 when s fills the side).
 */
export function squareL2Candidate(x0: Float32Array, best: Float32Array, s: number, g: Geometry, rng: Rng): Float32Array {
  const { h, w, c, eps } = g;
  const corner = (side: number): number => (side - s > 0 ? Math.floor(rng() * (side - s)) : 0);
  const top1 = corner(h);
  const left1 = corner(w);
  const top2 = corner(h);
  const left2 = corner(w);
  const delta = Float64Array.from(best, (v, p) => v - x0[p]!);
  const inWindow = (r: number, col: number, top: number, left: number): boolean => r >= top && r < top + s && col >= left && col < left + s;
  let image = 0;
  for (const v of delta) image += v * v;
  const window1 = new Float64Array(c);
  const both = new Float64Array(c);
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      const one = inWindow(r, col, top1, left1);
      if (!one && !inWindow(r, col, top2, left2)) continue;
      for (let ch = 0; ch < c; ch++) {
        const v = delta[(r * w + col) * c + ch]!;
        both[ch]! += v * v;
        if (one) window1[ch]! += v * v;
      }
    }
  }
  const bump = pseudoGaussianSquare(s, rng() > 0.5);
  const signs = Array.from({ length: c }, () => (rng() < 0.5 ? -1 : 1));
  const fresh = new Float64Array(s * s * c);
  const freshNorm = new Float64Array(c);
  for (let r = 0; r < s; r++) {
    for (let col = 0; col < s; col++) {
      for (let ch = 0; ch < c; ch++) {
        const old = delta[((top1 + r) * w + left1 + col) * c + ch]! / (1e-10 + Math.sqrt(window1[ch]!));
        const v = bump[r * s + col]! * signs[ch]! + old;
        fresh[(r * s + col) * c + ch] = v;
        freshNorm[ch]! += v * v;
      }
    }
  }
  const room = Math.max(eps * eps - image, 0) / c;
  for (let r = top2; r < top2 + s; r++) for (let col = left2; col < left2 + s; col++) delta.fill(0, (r * w + col) * c, (r * w + col + 1) * c);
  for (let r = 0; r < s; r++) {
    for (let col = 0; col < s; col++) {
      for (let ch = 0; ch < c; ch++) {
        const scale = Math.sqrt(room + both[ch]!) / Math.sqrt(freshNorm[ch]! || 1);
        delta[((top1 + r) * w + left1 + col) * c + ch] = fresh[(r * s + col) * c + ch]! * scale;
      }
    }
  }
  const out = new Float32Array(h * w * c);
  rescaleInto(out, x0, delta, g);
  return out;
}
