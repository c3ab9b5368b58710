import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { l0, pixelBudget } from '../src/tensor/sparse-norms.js';
import { deriveSeed, makeRng, type Rng } from '../src/tensor/random.js';
import type { Attack, AttackContext, Classifier, Criterion } from '../src/types.js';
import { queryScores, searchScores, type SearchLoss } from './score-queries.js';

/**
 * Sparse-RS, L0 version — Croce, Singh, Andriushchenko, Flammarion & Hein, "Sparse-RS: a
 * versatile framework for query-efficient sparse black-box adversarial attacks", AAAI 2022
 * (arXiv:2006.12834), Algorithm 1 with the reference code's L0 branch (fra31/sparse-rs).
 * Score-based: logits only, never a gradient.
 *
 * ε = k pixels, a pixel being every channel at one location. Start: k random locations, each
 * channel set to a random corner of the box (lower or upper). Iteration t: α(t)·k of the k
 * perturbed locations (at least 1) go back to the original and as many unperturbed locations are
 * set to random corners; the candidate is kept if it lowers the loss (or fools the model). α(t) =
 * α_init divided by 2, 4, 5, 6, 8, 10, 12, 15, 20 after iterations 0, 50, 200, 500, 1000, 2000,
 * 4000, 6000, 8000 of a 10 000-query run, rescaled to the budget (the reference's resc_schedule).
 * Defaults: α_init = 0.3 (the authors' untargeted L0 setting), margin loss, 1,000 queries (the paper
 * uses 10,000). Targeted (the harness's --targeted least-likely|random|K gives each example its
 * target t): success = max_{i≠t} z_i − z_t < 0, and as in the reference (whose init_hyperparam
 * forces loss = 'ce' when targeted) the loss minimised is CE(t), with α_init = 0.1, the
 * authors' targeted L0 setting (fra31/sparse-rs README), unless alphaInit is given. Departures: the resampled positions are drawn per example (the reference draws one
 * set of list positions for the whole batch), from one stream per example seeded by (ctx.seed, its
 * index), so an example's result does not depend on its batch.
 */
export interface SparseRsOptions {
  /** Forward passes per example, the starting point included. */
  queries?: number;
  alphaInit?: number;
  loss?: SearchLoss;
}

/** Tags Sparse-RS's random streams apart from other users of the same seed. */
const SEED_SALT = 0x5b;
/** (iteration of a 10 000-query run after which, divisor of α_init) — the reference's p_selection for L0. */
const SCHEDULE: [number, number][] = [
  [8000, 20],
  [6000, 15],
  [4000, 12],
  [2000, 10],
  [1000, 8],
  [500, 6],
  [200, 5],
  [50, 4],
  [0, 2],
];

/** α at iteration t (1-based after the start) of a run of `queries`, the iteration rescaled to 10 000. */
export function sparseRsFraction(iteration: number, queries: number, alphaInit = 0.3): number {
  const it = Math.floor((iteration * 10000) / queries);
  const divisor = SCHEDULE.find(([after]) => it > after)?.[1] ?? 1;
  return alphaInit / divisor;
}

/** Draws `m` distinct entries of 0..n−1 (partial Fisher–Yates). */
function sample(n: number, m: number, rng: Rng): number[] {
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let j = 0; j < m; j++) {
    const pick = j + Math.floor(rng() * (n - j));
    [pool[j], pool[pick]] = [pool[pick]!, pool[j]!];
  }
  return pool.slice(0, m);
}

/**
 * The loss and α_init a run uses: untargeted, the options (margin loss, α_init 0.3 by default);
 * targeted, the reference's CE to the target and α_init = 0.1 unless alphaInit is given.
 */
export function sparseRsSearch(targeted: boolean, options: SparseRsOptions = {}): { loss: SearchLoss; alphaInit: number } {
  return targeted ? { loss: 'ce', alphaInit: options.alphaInit ?? 0.1 } : { loss: options.loss ?? 'margin', alphaInit: options.alphaInit ?? 0.3 };
}

export function sparseRs(options: SparseRsOptions = {}): Attack {
  const queries = options.queries ?? 1000;
  const { alphaInit, loss } = sparseRsSearch(false, options);
  const targeted = sparseRsSearch(true, options);
  if (!Number.isInteger(queries) || queries < 1) throw new UserError(`sparse-rs: queries must be a positive integer, got ${queries}`);
  if (!(alphaInit > 0 && alphaInit <= 1)) throw new UserError(`sparse-rs: alphaInit must be in (0, 1], got ${alphaInit}`);
  if (loss !== 'margin' && loss !== 'ce') throw new UserError(`sparse-rs: unknown loss "${String(loss)}": use margin or ce`);

  return {
    name: 'sparse-rs',
    norm: l0,
    kind: 'black-box',
    config: {
      queries,
      alphaInit,
      loss,
      pixel: 'all channels at one location',
      start: 'k random locations at random box corners',
      schedule: 'α_init / 2, 4, 5, 6, 8, 10, 12, 15, 20 after 0, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of 10 000, rescaled',
      targeted: `${targeted.loss.toUpperCase()} to the target, α_init = ${targeted.alphaInit} (the reference's targeted L0 setting)`,
    },
    async run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): Promise<tf.Tensor4D> {
      const [n, h, w, c] = x0.shape;
      const locations = h * w;
      const k = Math.min(pixelBudget(eps), locations);
      if (k === 0 || n === 0) return tf.clone(x0);
      const shape: [number, number, number] = [h, w, c];
      const pixels = locations * c;
      const { lower, upper } = model.bounds;
      const original = Float32Array.from(x0.dataSync());
      const labels = Int32Array.from(criterion.labels.dataSync());
      const rngs: Rng[] = Array.from({ length: n }, (_, i) => makeRng(deriveSeed(ctx.seed, SEED_SALT, ctx.indices ? ctx.indices[i]! : i)));
      const corner = (rng: Rng): number => (rng() < 0.5 ? lower : upper);
      const { loss: runLoss, alphaInit: alpha } = sparseRsSearch(criterion.targeted, options);

      // Per example: the k perturbed locations and the others.
      const perturbed: Int32Array[] = [];
      const free: Int32Array[] = [];
      const best = Float32Array.from(original);
      for (let i = 0; i < n; i++) {
        const rng = rngs[i]!;
        const order = sample(locations, locations, rng);
        perturbed.push(Int32Array.from(order.slice(0, k)));
        free.push(Int32Array.from(order.slice(k)));
        for (const p of perturbed[i]!) for (let ch = 0; ch < c; ch++) best[i * pixels + p * c + ch] = corner(rng);
      }
      const initial = searchScores(await queryScores(model, best, shape, ctx), labels, model.numClasses, criterion.targeted, runLoss);
      const marginBest = initial.margin;
      const lossBest = initial.loss;

      for (let iteration = 1; iteration < queries; iteration++) {
        const standing = Array.from(marginBest.keys()).filter((i) => marginBest[i]! >= 0);
        if (standing.length === 0) break;
        const m = Math.max(Math.floor(sparseRsFraction(iteration, queries, alpha) * k), 1);
        const candidates = new Float32Array(standing.length * pixels);
        const swaps = standing.map((i, row) => {
          const rng = rngs[i]!;
          const base = i * pixels;
          const out = row * pixels;
          candidates.set(best.subarray(base, base + pixels), out);
          const swapped = Math.min(m, locations - k);
          const out_ = sample(k, swapped > 0 ? swapped : Math.min(m, k), rng);
          const in_ = swapped > 0 ? sample(locations - k, swapped, rng) : [];
          if (swapped > 0) {
            // Back to the original at the dropped locations, random corners at the new ones.
            for (const j of out_) candidates.set(original.subarray(base + perturbed[i]![j]! * c, base + (perturbed[i]![j]! + 1) * c), out + perturbed[i]![j]! * c);
            for (const j of in_) for (let ch = 0; ch < c; ch++) candidates[out + free[i]![j]! * c + ch] = corner(rng);
          } else {
            // Every location is perturbed (k = h·w): redraw the corners of m of them.
            for (const j of out_) for (let ch = 0; ch < c; ch++) candidates[out + perturbed[i]![j]! * c + ch] = corner(rng);
          }
          return { out: out_, in: in_ };
        });
        const subLabels = Int32Array.from(standing, (i) => labels[i]!);
        const next = searchScores(await queryScores(model, candidates, shape, ctx), subLabels, model.numClasses, criterion.targeted, runLoss);
        standing.forEach((i, row) => {
          if (!(next.loss[row]! < lossBest[i]! || next.margin[row]! < 0)) return;
          lossBest[i] = next.loss[row]!;
          marginBest[i] = next.margin[row]!;
          best.set(candidates.subarray(row * pixels, (row + 1) * pixels), i * pixels);
          const { out: dropped, in: added } = swaps[row]!;
          added.forEach((j, t) => {
            const d = dropped[t]!;
            [perturbed[i]![d], free[i]![j]] = [free[i]![j]!, perturbed[i]![d]!];
          });
        });
      }
      return tf.tensor4d(best, [n, h, w, c]);
    },
  };
}
