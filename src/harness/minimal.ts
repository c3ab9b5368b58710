import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { predictClasses, scoresOf } from '../model/scores.js';
import { scoreFacts } from './margins.js';
import { clipToBox } from '../tensor/norms.js';
import { takeRows } from '../tensor/rows.js';
import type { Attack, Classifier, Costs } from '../types.js';
import { BUDGET_TOLERANCE, finalizeAdversarial, quantize8 } from '../tensor/finalize.js';
import type { CellRecord } from './journal.js';
import { untouchedCell } from './untouched-cell.js';
import { round6 } from './stats.js';
import { tidyValue, tidyValues } from '../tensor/read.js';

/**
 * How the harness evaluates a minimal-perturbation attack (Attack.minimal): the attack runs once
 * per batch on every clean-correct example; the harness clips its output to the box, re-predicts
 * it and measures its distance d_i in the attack's norm. At each ε of the grid an example is then
 * attacked with that image if it is adversarial and d_i ≤ ε, else with the clean image — and that
 * image goes through the same projection, verification, re-prediction and 8-bit rounding as
 * every attack's. So accuracy(ε) is the fraction of examples not fooled within ε, from one run.
 */
export interface MinimalRun {
  /** Rows of the batch the attack ran on. */
  rows: number[];
  /** The attack's output clipped to the box, one row per entry of `rows`. */
  found: tf.Tensor4D;
  /** Per entry of `rows`: distance of `found` from the clean image, in the attack's norm. */
  distance: Float32Array;
  /** Per entry of `rows`: 1 where `found` re-predicts as adversarial. */
  success: Uint8Array;
  costs: Costs;
  seconds: number;
}

/** Runs a minimal attack once on `rows` of the batch; eps is the grid's largest (a hint only). */
export async function runMinimal(model: Classifier, attack: Attack, x: tf.Tensor4D, criterionLabels: Int32Array, rows: number[], targeted: boolean, eps: number, seed: number, indices: Int32Array): Promise<MinimalRun> {
  if (model.gradientUnavailable) {
    throw new UserError(`${attack.name} needs gradients, but the model has none (${model.gradientUnavailable}): use a score-based attack (--attack square)`);
  }
  const t0 = performance.now();
  const sub = takeRows(x, rows);
  const labels = tf.tensor1d(Int32Array.from(rows, (r) => criterionLabels[r]!), 'int32');
  try {
    const ctx = { seed, costs: { gradients: 0, queries: 0 }, indices };
    const raw = await attack.run(model, sub, { labels, targeted }, eps, ctx);
    const found = tf.tidy(() => clipToBox(raw, model.bounds.lower, model.bounds.upper));
    raw.dispose();
    const distance = tidyValue(() => attack.norm.distance(found, sub));
    const predicted = await predictClasses(model, found);
    const target = Int32Array.from(rows, (r) => criterionLabels[r]!);
    const success = Uint8Array.from(rows, (_, k) => ((targeted ? predicted[k] === target[k] : predicted[k] !== target[k]) ? 1 : 0));
    return { rows, found, distance: Float32Array.from(distance), success, costs: ctx.costs, seconds: (performance.now() - t0) / 1000 };
  } finally {
    tf.dispose([sub, labels]);
  }
}

/** Per example of the batch: the minimal distance found, null where none (or not attacked). */
export function minimalDistances(run: MinimalRun, n: number): (number | null)[] {
  const out = new Array<number | null>(n).fill(null);
  run.rows.forEach((r, k) => {
    if (run.success[k]) out[r] = round6(run.distance[k]!);
  });
  return out;
}

/**
 * The (attack, ε) cell of a minimal attack over the `standing` rows (a subset of run.rows).
 * `charge` puts the run's costs and time on this cell (the grid's largest ε), so that they count once.
 */
export async function minimalCell(model: Classifier, attack: Attack, eps: number, x: tf.Tensor4D, clean: Int32Array, standing: number[], run: MinimalRun, charge: boolean, labels?: ArrayLike<number>): Promise<CellRecord> {
  const n = x.shape[0];
  const cell: CellRecord = {
    ...untouchedCell(clean),
    minimal: minimalDistances(run, n),
    gradients: charge ? run.costs.gradients : 0,
    queries: charge ? run.costs.queries : 0,
  };
  if (standing.length === 0 || eps === 0) {
    cell.seconds = charge ? round6(run.seconds) : 0;
    return cell;
  }
  const t0 = performance.now();
  const position = new Map(run.rows.map((r, k) => [r, k]));
  const ks = standing.map((r) => position.get(r)!);
  const tol = BUDGET_TOLERANCE * Math.max(1, model.bounds.upper - model.bounds.lower);
  const within = Uint8Array.from(ks, (k) => (run.success[k] && run.distance[k]! <= eps + tol ? 1 : 0));
  const sub = takeRows(x, standing);
  const candidate = tf.tidy(() => {
    const found = tf.gather(run.found, tf.tensor1d(ks, 'int32')) as tf.Tensor4D;
    const mask = tf.tensor4d(within, [ks.length, 1, 1, 1], 'bool');
    return tf.where(tf.broadcastTo(mask, sub.shape), found, sub) as tf.Tensor4D;
  });
  try {
    const adv = finalizeAdversarial(candidate, sub, eps, attack.norm, model.bounds, attack.name);
    await recordAdversarial(model, cell, standing, adv, sub, labels);
  } finally {
    tf.dispose([sub, candidate]);
  }
  cell.seconds = round6((performance.now() - t0) / 1000 + (charge ? run.seconds : 0));
  return cell;
}

/** Median and mean of the minimal distances over the attacked examples (not found = ∞). */
export function minimalSummary(distances: (number | null)[], attacked: boolean[]): { found: number; of: number; median: number | null; mean: number | null } {
  const values = distances.filter((_, i) => attacked[i]).map((d) => d ?? Infinity).sort((a, b) => a - b);
  const finite = values.filter(Number.isFinite);
  const of = values.length;
  let median: number | null = null;
  if (of > 0) {
    const m = of % 2 === 1 ? values[(of - 1) / 2]! : (values[of / 2 - 1]! + values[of / 2]!) / 2;
    median = Number.isFinite(m) ? round6(m) : null;
  }
  return { found: finite.length, of, median, mean: finite.length > 0 ? round6(finite.reduce((a, b) => a + b, 0) / finite.length) : null };
}

/**
 * Writes into a cell, for the given rows, what the harness records of final adversarial images:
 * predictions on them and on their 8-bit versions, and their L∞ and L2 distances; with the true
 * `labels` of the batch's rows, also the true-class margin and top-1 probability (rows not
 * attacked stay null there: the report fills them in). Disposes adv.
 */
export async function recordAdversarial(model: Classifier, cell: CellRecord, rows: readonly number[], adv: tf.Tensor4D, x: tf.Tensor4D, labels?: ArrayLike<number>): Promise<void> {
  const q = quantize8(adv, model.bounds);
  try {
    let advPreds: Int32Array;
    if (labels) {
      const scores = await scoresOf(model, adv);
      const facts = await scoreFacts(scores, rows.map((r) => labels[r]!)).finally(() => scores.dispose());
      advPreds = facts.predictions;
      const n = cell.predictions.length;
      cell.margin ??= new Array<number | null>(n).fill(null);
      cell.confidence ??= new Array<number | null>(n).fill(null);
      rows.forEach((r, k) => {
        cell.margin![r] = facts.margin[k]!;
        cell.confidence![r] = facts.confidence[k]!;
      });
    } else {
      advPreds = await predictClasses(model, adv);
    }
    const qPreds = await predictClasses(model, q);
    const [dInf, d2] = tidyValues(() => {
      const delta = tf.sub(adv, x);
      return [tf.max(tf.abs(delta), [1, 2, 3]), tf.sqrt(tf.sum(tf.square(delta), [1, 2, 3]))];
    });
    rows.forEach((r, k) => {
      cell.predictions[r] = advPreds[k]!;
      cell.quantizedPredictions[r] = qPreds[k]!;
      cell.linf[r] = round6(dInf![k]!);
      cell.l2[r] = round6(d2![k]!);
      cell.attacked[r] = 1;
    });
  } finally {
    tf.dispose([adv, q]);
  }
}
