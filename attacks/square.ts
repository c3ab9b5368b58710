import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { l2, linf } from '../src/tensor/norms.js';
import { deriveSeed, makeRng, type Rng } from '../src/tensor/random.js';
import type { Attack, Classifier, Criterion, AttackContext } from '../src/types.js';
import { queryScores, searchScores, type SearchLoss } from './score-queries.js';
import { squareL2Candidate, squareL2Side, squareL2Start, type Geometry } from './square-l2.js';

/**
 * Square Attack — Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a query-efficient
 * black-box adversarial attack via random search", ECCV 2020 (arXiv:1912.00049), the L∞ version
 * (Algorithms 1 and 2). Score-based: it reads logits only and never asks for a gradient.
 *
 * Defaults: 1000 queries per example (the first is the starting point), p_init = 0.8, margin
 * loss. Start: vertical stripes of ±ε (one random sign per column and channel). Each iteration
 * draws, per example, a square of side s = round(√(p·h·w)) (at least 1) at a uniformly random
 * position and sets it to x0 ± ε with one random sign per channel; the candidate is kept when it
 * lowers the loss (or already fools the model). p halves at iterations 10, 50, 200, 500, 1000,
 * 2000, 4000, 6000, 8000 of a 10 000-query run, rescaled to the budget as in the reference.
 * As in the authors' code, signs are redrawn when they would leave the square unchanged.
 * An example is no longer queried once fooled. Margin: z_y − max_{i≠y} z_i (untargeted) or
 * max_{i≠t} z_i − z_t (targeted), minimised; 'ce' minimises −CE(y), or CE(t) when targeted.
 * All randomness comes from one stream per example seeded by (ctx.seed, the example's index).
 *
 * `norm: 'l2'`: the L2 version (Algorithm 3; the reference's square_attack_l2, as autoattack runs
 * it): start from a 5 × 5 grid of pseudo-Gaussian bumps with random signs, rescaled to ‖δ‖₂ = ε;
 * each iteration draws two windows of side s = round(√(p·h·w)) (≥ 3, odd), puts a fresh bump plus
 * the old content into window 1 with the mass of both windows and any unused budget, empties
 * window 2, and rescales δ to norm ε (square-l2.ts). Same p schedule, loss and acceptance as L∞.
 * Departure, as for L∞: the windows and signs are drawn per example (the reference draws one
 * window per iteration for the whole batch), so an example's result does not depend on its batch.
 */
export interface SquareOptions {
  /** Forward passes per example, the starting point included. */
  queries?: number;
  /** Initial fraction of the image a square covers. */
  pInit?: number;
  loss?: SquareLoss;
  /** linf (default) or l2. */
  norm?: 'linf' | 'l2';
}

export type SquareLoss = SearchLoss;

/** The iterations of a 10 000-query run after which p halves (Andriushchenko et al., §4). */
const HALVINGS = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
/** Tags the Square Attack's random streams apart from other users of the same seed. */
const SEED_SALT = 0x5a;
/** Sign redraws before giving up on a proposal that changes nothing (2^channels choices, at most one idle). */
const MAX_REDRAWS = 16;

/**
 * p at a given iteration (0-based, the starting point not counted) of a run of `queries`:
 * the iteration is rescaled to a 10 000-query run, then p_init is halved once per threshold passed.
 */
export function squareFraction(iteration: number, queries: number, pInit = 0.8): number {
  const it = Math.floor((iteration * 10000) / queries);
  return pInit / 2 ** HALVINGS.filter((t) => it > t).length;
}

/** Side of the square for fraction p of an h×w image: round(√(p·h·w)), between 1 and min(h, w). */
export function squareSide(p: number, h: number, w: number): number {
  return Math.min(Math.max(Math.round(Math.sqrt(p * h * w)), 1), h, w);
}

export function square(options: SquareOptions = {}): Attack {
  const queries = options.queries ?? 1000;
  const pInit = options.pInit ?? 0.8;
  const loss = options.loss ?? 'margin';
  const norm = options.norm ?? 'linf';
  if (norm !== 'linf' && norm !== 'l2') throw new UserError(`square: unknown norm "${String(norm)}": use linf or l2`);
  if (!Number.isInteger(queries) || queries < 1) throw new UserError(`square: queries must be a positive integer, got ${queries}`);
  if (!(pInit > 0 && pInit <= 1)) throw new UserError(`square: pInit must be in (0, 1], got ${pInit}`);
  if (loss !== 'margin' && loss !== 'ce') throw new UserError(`square: unknown loss "${String(loss)}": use margin or ce`);

  return {
    name: norm === 'l2' ? 'square-l2' : 'square',
    norm: norm === 'l2' ? l2 : linf,
    kind: 'black-box',
    config: {
      queries,
      pInit,
      loss,
      ...(norm === 'l2' ? { norm, start: '5 × 5 grid of pseudo-Gaussian bumps, ‖δ‖₂ = ε', update: 'two windows: fresh bump + old content into window 1, window 2 emptied, ‖δ‖₂ = ε' } : { start: 'vertical stripes of ±ε' }),
      schedule: 'p halves at 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of 10 000, rescaled',
    },
    async run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): Promise<tf.Tensor4D> {
      const [n, h, w, c] = x0.shape;
      if (eps <= 0 || n === 0) return tf.clone(x0);
      const shape: [number, number, number] = [h, w, c];
      const pixels = h * w * c;
      const k = model.numClasses;
      const { lower, upper } = model.bounds;
      const clip = (v: number): number => Math.min(Math.max(v, lower), upper);
      const original = Float32Array.from(x0.dataSync());
      const labels = Int32Array.from(criterion.labels.dataSync());
      const rngs: Rng[] = Array.from({ length: n }, (_, i) => makeRng(deriveSeed(ctx.seed, SEED_SALT, ctx.indices ? ctx.indices[i]! : i)));

      const geometry: Geometry = { h, w, c, eps, clip };
      // Start: each column of each channel moved by +ε or −ε over the whole height (L∞), or the bumps (L2).
      const best = new Float32Array(n * pixels);
      for (let i = 0; i < n; i++) {
        if (norm === 'l2') {
          best.set(squareL2Start(original.subarray(i * pixels, (i + 1) * pixels), geometry, rngs[i]!), i * pixels);
          continue;
        }
        const rng = rngs[i]!;
        const signs = Array.from({ length: w * c }, () => (rng() < 0.5 ? -eps : eps));
        for (let r = 0; r < h; r++) {
          for (let j = 0; j < w * c; j++) {
            const at = i * pixels + r * w * c + j;
            best[at] = clip(original[at]! + signs[j]!);
          }
        }
      }
      const initial = searchScores(await queryScores(model, best, shape, ctx), labels, k, criterion.targeted, loss);
      const marginBest = initial.margin;
      const lossBest = initial.loss;

      for (let iteration = 0; iteration < queries - 1; iteration++) {
        // A negative margin is an unambiguous success: argmax agrees with it even under ties.
        const standing = Array.from(marginBest.keys()).filter((i) => marginBest[i]! >= 0);
        if (standing.length === 0) break;
        const p = squareFraction(iteration, queries, pInit);
        const s = norm === 'l2' ? squareL2Side(p, h, w) : squareSide(p, h, w);
        const candidates = new Float32Array(standing.length * pixels);
        standing.forEach((i, row) => {
          const rng = rngs[i]!;
          const base = i * pixels;
          const out = row * pixels;
          if (norm === 'l2') {
            candidates.set(squareL2Candidate(original.subarray(base, base + pixels), best.subarray(base, base + pixels), s, geometry, rng), out);
            return;
          }
          candidates.set(best.subarray(base, base + pixels), out);
          const top = Math.floor(rng() * (h - s + 1));
          const left = Math.floor(rng() * (w - s + 1));
          // fround: compared with the float32 pixels already stored.
          const windowValue = (r: number, col: number, ch: number, sign: number): number => Math.fround(clip(original[base + (r * w + col) * c + ch]! + sign * eps));
          let signs: number[] = [];
          for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
            signs = Array.from({ length: c }, () => (rng() < 0.5 ? -1 : 1));
            let changes = false;
            for (let r = top; r < top + s && !changes; r++) {
              for (let col = left; col < left + s && !changes; col++) {
                for (let ch = 0; ch < c && !changes; ch++) {
                  changes = windowValue(r, col, ch, signs[ch]!) !== best[base + (r * w + col) * c + ch];
                }
              }
            }
            if (changes) break;
          }
          for (let r = top; r < top + s; r++) {
            for (let col = left; col < left + s; col++) {
              for (let ch = 0; ch < c; ch++) candidates[out + (r * w + col) * c + ch] = windowValue(r, col, ch, signs[ch]!);
            }
          }
        });
        const subLabels = Int32Array.from(standing, (i) => labels[i]!);
        const next = searchScores(await queryScores(model, candidates, shape, ctx), subLabels, k, criterion.targeted, loss);
        standing.forEach((i, row) => {
          // Keep a lower loss, or any candidate that fools the model (they differ for 'ce').
          if (!(next.loss[row]! < lossBest[i]! || next.margin[row]! < 0)) return;
          lossBest[i] = next.loss[row]!;
          marginBest[i] = next.margin[row]!;
          best.set(candidates.subarray(row * pixels, (row + 1) * pixels), i * pixels);
        });
      }
      return tf.tensor4d(best, [n, h, w, c]);
    },
  };
}
