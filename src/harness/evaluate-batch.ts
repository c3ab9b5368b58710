import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { scoresOf } from '../model/scores.js';
import { formatEps } from '../number-format.js';
import { deriveSeed } from '../tensor/random.js';
import { takeRows } from '../tensor/rows.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { runAttack } from '../../attacks/run-attack.js';
import type { BatchRecord, CellRecord } from './journal.js';
import { untouchedCell } from './untouched-cell.js';
import { scoreFacts } from './margins.js';
import { minimalCell, recordAdversarial, runMinimal, type MinimalRun } from './minimal.js';
import { probeModel } from './probes.js';
import type { ModelProbeRecord } from './report-types.js';
import { round6 } from './stats.js';
import { chooseTargets, type TargetSpec } from './targets.js';

// The per-batch maths of evaluate(): clean pass, probes, every (attack, ε) cell of one batch. The
// same in this thread and in a worker (src/run/worker.ts), so records and reports are identical.

/** What evaluateBatch reports as it goes: a cell started (examples 0) or finished (examples > 0). */
export interface BatchProgress {
  phase: string;
  /** Example-attacks just finished: the batch's examples, once per (attack, ε). */
  examples: number;
}

export type SuiteMode = 'independent' | 'sequential';

/** Examples used for the model probes. */
const PROBE_EXAMPLES = 100;

/**
 * Refuses NaN or infinite clean scores: every figure would be meaningless (argmax of a NaN row is
 * class 0, so the model would seem to predict 0 and attacks to fail). `exampleId` names a row.
 */
export function checkFiniteScores(model: Classifier, scores: tf.Tensor2D, exampleId: (row: number) => string): void {
  const values = scores.dataSync();
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) return;
  const info = model.describe?.() ?? {};
  const name = typeof info.path === 'string' ? info.path : typeof info.name === 'string' ? info.name : undefined;
  const kind = Number.isNaN(values[bad]) ? 'NaN' : 'infinite';
  throw new UserError(
    `${name === undefined ? 'the model' : `model ${name}`} produced ${kind} logits on example ${exampleId(Math.floor(bad / scores.shape[1]))}: check the weights (re-train or re-export the model)`,
  );
}

/** A stable number for an attack name, so seeds do not depend on the order of --attack. */
function nameHash(name: string): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0);
}

/** The seed of one (attack, ε) cell: independent of batches, shards and other cells. */
export function cellSeed(seed: number, attack: Attack, eps: number): number {
  return deriveSeed(seed, nameHash(attack.name), Math.round(eps * 1e9));
}

export interface BatchJob {
  batch: number;
  batchSize: number;
  seed: number;
  target: TargetSpec;
  mode: SuiteMode;
  probes: boolean;
  /** Indices in the evaluated set of the examples to trace (EvaluateOptions.trace). */
  trace?: number[];
}

/** Clean predictions, targets and every (attack, ε) cell of one batch. */
export async function evaluateBatch(model: Classifier, data: Dataset, attacks: Attack[], epsilons: number[], job: BatchJob, onProgress?: (p: BatchProgress) => void): Promise<BatchRecord> {
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  const start = job.batch * job.batchSize;
  const end = Math.min(start + job.batchSize, data.size);
  const n = end - start;
  const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), [n, h, w, c]);
  const labels = data.labels.subarray(start, end);
  const minimalRuns = new Map<number, MinimalRun>();
  // The run's costs and time go on one cell (the largest ε), so that they count once.
  const charged = new Set<number>();
  try {
    const cleanLogits = await scoresOf(model, x);
    try {
      checkFiniteScores(model, cleanLogits, (row) => data.ids[start + row] ?? String(start + row));
    } catch (err) {
      cleanLogits.dispose();
      throw err;
    }
    const cleanFacts = await scoreFacts(cleanLogits, labels);
    const clean = cleanFacts.predictions;
    const criterionLabels = job.target === 'untargeted' ? labels : chooseTargets(job.target, cleanLogits, labels, start, job.seed);
    cleanLogits.dispose();
    const correctRows = Array.from({ length: n }, (_, i) => i).filter((i) => clean[i] === labels[i]);
    let probe: ModelProbeRecord | undefined;
    // The probes run once, on the first batch, whichever shard holds it.
    if (job.probes && job.batch === 0 && correctRows.length > 0) {
      const rows = correctRows.slice(0, PROBE_EXAMPLES);
      const px = takeRows(x, rows);
      probe = await probeModel(model, px, Int32Array.from(rows, (r) => labels[r]!), attacks.find((a) => a.kind === 'iterative'), deriveSeed(job.seed, 0x5a17));
      px.dispose();
    }
    const cells: CellRecord[][] = attacks.map(() => []);
    // Minimal attacks run once per batch, on every clean-correct example; each ε reads off it.
    const epsMax = Math.max(...epsilons);
    for (const [k, attack] of attacks.entries()) {
      if (!attack.minimal || correctRows.length === 0 || epsMax <= 0) continue;
      onProgress?.({ phase: `${attack.name} (minimal, once)`, examples: 0 });
      const indices = Int32Array.from(correctRows, (r) => start + r);
      minimalRuns.set(k, await runMinimal(model, attack, x, criterionLabels, correctRows, job.target !== 'untargeted', epsMax, cellSeed(job.seed, attack, epsMax), indices));
    }
    for (const eps of epsilons) {
      // Examples still standing at this ε (sequential mode shrinks it attack by attack).
      let standing = correctRows;
      let previous: CellRecord | undefined;
      for (const [k, attack] of attacks.entries()) {
        const phase = `${attack.name} ε=${formatEps(eps)}`;
        onProgress?.({ phase, examples: 0 });
        const run = minimalRuns.get(k);
        const charge = run !== undefined && eps === epsMax && !charged.has(k);
        if (charge) charged.add(k);
        const cell = run
          ? await minimalCell(model, attack, eps, x, clean, standing, run, charge, labels)
          : await attackBatch(model, attack, eps, { x, start, clean, labels, criterionLabels }, standing, job);
        onProgress?.({ phase, examples: n });
        if (job.mode === 'sequential') {
          standing = standing.filter((i) => cell.predictions[i] === labels[i]);
          if (previous) carryForward(previous, cell);
        }
        cells[k]!.push(cell);
        previous = cell;
      }
    }
    return {
      batch: job.batch,
      start,
      clean: Array.from(clean),
      cleanMargin: cleanFacts.margin,
      cleanConfidence: cleanFacts.confidence,
      ...(job.target !== 'untargeted' ? { targets: Array.from(criterionLabels) } : {}),
      cells: cells.flat(),
      ...(probe ? { probe } : {}),
    };
  } finally {
    x.dispose();
    for (const run of minimalRuns.values()) run.found.dispose();
  }
}

/** Attacks the standing rows of one batch at one ε (toward `criterionLabels`: targets when targeted); rows not attacked keep their clean prediction. */
async function attackBatch(model: Classifier, attack: Attack, eps: number, b: { x: tf.Tensor4D; start: number; clean: Int32Array; labels: Int32Array; criterionLabels: Int32Array }, rows: number[], job: BatchJob): Promise<CellRecord> {
  const { x, start, clean, criterionLabels } = b;
  const n = x.shape[0];
  const cell = untouchedCell(clean);
  // At ε = 0 the only admissible image is the clean one: nothing to attack.
  if (rows.length === 0 || eps === 0) return cell;
  const t0 = performance.now();
  const all = rows.length === n;
  const sub = all ? x : takeRows(x, rows);
  const labelTensor = tf.tensor1d(Int32Array.from(rows, (r) => criterionLabels[r]!), 'int32');
  try {
    const indices = Int32Array.from(rows, (r) => start + r);
    const targeted = job.target !== 'untargeted';
    const { adv, costs, convergence, traces } = await runAttack(model, attack, sub, { labels: labelTensor, targeted }, eps, cellSeed(job.seed, attack, eps), indices, job.trace ? new Set(job.trace) : undefined);
    if (convergence) cell.convergence = convergence;
    if (traces) cell.traces = traces;
    await recordAdversarial(model, cell, rows, adv, sub, b.labels);
    cell.gradients = costs.gradients;
    cell.queries = costs.queries;
  } finally {
    labelTensor.dispose();
    if (!all) sub.dispose();
  }
  cell.seconds = round6((performance.now() - t0) / 1000);
  return cell;
}

/**
 * Sequential mode: an example an earlier attack broke was not attacked again; its result for the
 * later attacks is the adversarial example that broke it, so every row is cumulative.
 */
function carryForward(prev: CellRecord, cur: CellRecord): void {
  // `attacked` stays this attack's own, so that its perturbation figures are its own too.
  if (prev.margin && !cur.margin) cur.margin = new Array<number | null>(cur.predictions.length).fill(null);
  if (prev.confidence && !cur.confidence) cur.confidence = new Array<number | null>(cur.predictions.length).fill(null);
  cur.predictions.forEach((_, i) => {
    if (!cur.attacked[i]) {
      cur.predictions[i] = prev.predictions[i]!;
      cur.quantizedPredictions[i] = prev.quantizedPredictions[i]!;
      cur.linf[i] = prev.linf[i]!;
      cur.l2[i] = prev.l2[i]!;
      if (cur.margin && prev.margin) cur.margin[i] = prev.margin[i]!;
      if (cur.confidence && prev.confidence) cur.confidence[i] = prev.confidence[i]!;
    }
  });
}
