import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import stableStringify from 'fast-json-stable-stringify';
import { backendInfo, type BackendInfo } from '../backend/select.js';
import { fingerprint } from '../data/dataset.js';
import { UserError } from '../errors.js';
import { toolVersion } from '../package-info.js';
import { predictClasses, scoresOf } from '../model/scores.js';
import { deriveSeed } from '../tensor/random.js';
import { takeRows } from '../tensor/rows.js';
import type { Attack, AttackKind, Classifier, Dataset } from '../types.js';
import { robustnessCurves } from './curves.js';
import { quantize8 } from './finalize.js';
import { probeModel } from './probes.js';
import { REPORT_FORMAT, type AttackResult, type ExampleResults, type Proportion, type Report, type WorstCase } from './report.js';
import { runAttack } from './run-attack.js';
import { sanityChecks, type ModelProbe } from './sanity.js';
import { round6, wilsonInterval } from './stats.js';
import { chooseTargets, describeTarget, type TargetSpec } from './targets.js';

export interface EvaluateProgress {
  done: number;
  total: number;
}

export type SuiteMode = 'independent' | 'sequential';

export interface EvaluateOptions {
  batchSize?: number;
  seed?: number;
  target?: TargetSpec;
  /**
   * independent: every attack runs on every clean-correct example (per-attack figures);
   * sequential: like AutoAttack, each attack runs only on the examples the earlier ones left
   * standing, so each row is the robust accuracy after that attack and all before it.
   */
  mode?: SuiteMode;
  /** Run the sanity checks that need extra model passes (gradients, randomness, unbounded ε). Default true. */
  probes?: boolean;
  /** How the evaluated examples were chosen, when not the whole split (goes into the report). */
  subset?: string;
  onProgress?: (p: EvaluateProgress) => void;
}

/** Accumulates one (attack, ε) cell over batches. */
interface Cell {
  attack: Attack;
  attackIndex: number;
  eps: number;
  predictions: number[];
  quantizedPredictions: number[];
  linf: number[];
  l2: number[];
  attacked: boolean[];
  gradients: number;
  queries: number;
  seconds: number;
}

/** Examples used for the model probes. */
const PROBE_EXAMPLES = 100;

function proportion(correct: number, n: number): Proportion {
  const [lo, hi] = wilsonInterval(correct, n);
  return { correct, n, accuracy: n === 0 ? 0 : round6(correct / n), interval: [round6(lo), round6(hi)] };
}

function checkCompatible(model: Classifier, data: Dataset): void {
  const [h, w, c] = model.inputShape;
  const [dh, dw, dc] = data.shape;
  if (h !== dh || w !== dw || c !== dc) {
    throw new UserError(`data "${data.name}" has images of ${dh}×${dw}×${dc} but the model takes ${h}×${w}×${c}: choose data of the model's input shape (folder: images are resized to the model's shape)`);
  }
  for (let i = 0; i < data.size; i++) {
    const y = data.labels[i]!;
    if (!(y >= 0 && y < model.numClasses)) {
      throw new UserError(`data "${data.name}" example ${data.ids[i] ?? i} has label ${y}, outside the model's 0..${model.numClasses - 1}: the data's classes do not match the model`);
    }
  }
}

/** A stable number for an attack name, so seeds do not depend on the order of --attack. */
function nameHash(name: string): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0);
}

/** The seed of one (attack, ε) cell: independent of batches, shards and other cells. */
export function cellSeed(seed: number, attack: Attack, eps: number): number {
  return deriveSeed(seed, nameHash(attack.name), Math.round(eps * 1e9));
}

function checkOptions(attacks: Attack[], epsilons: number[]): void {
  if (attacks.length === 0) throw new UserError('no attack given: use e.g. --attack fgsm');
  for (const eps of epsilons) {
    if (!(Number.isFinite(eps) && eps >= 0)) throw new UserError(`ε = ${eps} is not a non-negative number: give values like 0.1 or 8/255`);
  }
  const names = attacks.map((a) => a.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UserError(`attack "${dup}" is listed twice: list each attack once`);
}

/**
 * Evaluates a classifier clean and under each attack at each ε. The harness, not the attack,
 * projects and verifies every adversarial batch and re-predicts the final images; an example is
 * robust only if it was classified correctly clean and stays so (per attack, and for the
 * worst case across attacks, per example).
 */
export async function evaluate(model: Classifier, data: Dataset, attacks: Attack[], epsilons: number[], options: EvaluateOptions = {}): Promise<Report> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 128;
  const seed = options.seed ?? 0;
  const target = options.target ?? 'untargeted';
  const mode = options.mode ?? 'independent';
  checkOptions(attacks, epsilons);
  checkCompatible(model, data);
  const backend = await backendInfo();
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  const cells: Cell[][] = epsilons.map((eps) =>
    attacks.map((attack, attackIndex) => ({ attack, attackIndex, eps, predictions: [], quantizedPredictions: [], linf: [], l2: [], attacked: [], gradients: 0, queries: 0, seconds: 0 })),
  );
  const cleanPredictions: number[] = [];
  const targets: number[] = [];
  let probe: ModelProbe | undefined;

  for (let start = 0; start < data.size; start += batchSize) {
    const end = Math.min(start + batchSize, data.size);
    const n = end - start;
    const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), [n, h, w, c]);
    const labels = data.labels.subarray(start, end);
    const cleanLogits = await scoresOf(model, x);
    const clean = tf.tidy(() => tf.argMax(cleanLogits, 1).dataSync() as Int32Array);
    cleanPredictions.push(...clean);
    let criterionLabels = labels;
    if (target !== 'untargeted') {
      criterionLabels = chooseTargets(target, cleanLogits, labels, start, seed);
      targets.push(...criterionLabels);
    }
    cleanLogits.dispose();
    const correctRows = Array.from({ length: n }, (_, i) => i).filter((i) => clean[i] === labels[i]);
    if (options.probes !== false && probe === undefined && correctRows.length > 0) {
      const rows = correctRows.slice(0, PROBE_EXAMPLES);
      const px = takeRows(x, rows);
      const unbounded = attacks.find((a) => a.kind === 'iterative');
      probe = await probeModel(model, px, Int32Array.from(rows, (r) => labels[r]!), unbounded, deriveSeed(seed, 0x5a17));
      px.dispose();
    }
    for (const row of cells) {
      // Examples still standing at this ε (sequential mode shrinks it attack by attack).
      let standing = correctRows;
      for (const cell of row) {
        await attackBatch(model, cell, x, clean, criterionLabels, standing, start, target !== 'untargeted', seed);
        if (mode === 'sequential') {
          const offset = cell.predictions.length - n;
          standing = standing.filter((i) => cell.predictions[offset + i] === labels[i]);
        }
      }
    }
    x.dispose();
    options.onProgress?.({ done: end, total: data.size });
    // Let progress bars and signals through between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  if (mode === 'sequential') carryForward(cells, data.size);
  // Attack-major order: all ε of the first attack, then the next.
  const ordered = attacks.flatMap((_, k) => cells.map((row) => row[k]!));
  return assemble({ model, data, attacks, epsilons, seed, target, mode, batchSize, cells: ordered, cleanPredictions, targets, backend, started, probe, subset: options.subset });
}

/** Attacks the standing rows of one batch for one cell and appends per-example results. */
async function attackBatch(
  model: Classifier,
  cell: Cell,
  x: tf.Tensor4D,
  clean: Int32Array,
  criterionLabels: Int32Array,
  rows: number[],
  start: number,
  targeted: boolean,
  seed: number,
): Promise<void> {
  const n = x.shape[0];
  const preds = Array.from(clean);
  const quantized = Array.from(clean);
  const linf = new Array<number>(n).fill(0);
  const l2 = new Array<number>(n).fill(0);
  const attacked = new Array<boolean>(n).fill(false);
  // At ε = 0 the only admissible image is the clean one: nothing to attack.
  if (rows.length > 0 && cell.eps > 0) {
    const t0 = performance.now();
    const all = rows.length === n;
    const sub = all ? x : takeRows(x, rows);
    const labelTensor = tf.tensor1d(Int32Array.from(rows, (r) => criterionLabels[r]!), 'int32');
    const indices = Int32Array.from(rows, (r) => start + r);
    const { adv, costs } = await runAttack(model, cell.attack, sub, { labels: labelTensor, targeted }, cell.eps, cellSeed(seed, cell.attack, cell.eps), indices);
    const advPreds = await predictClasses(model, adv);
    const q = quantize8(adv, model.bounds);
    const qPreds = await predictClasses(model, q);
    const [dInf, d2] = tf.tidy(() => {
      const delta = tf.sub(adv, sub);
      return [tf.max(tf.abs(delta), [1, 2, 3]).dataSync(), tf.sqrt(tf.sum(tf.square(delta), [1, 2, 3])).dataSync()];
    });
    rows.forEach((r, k) => {
      preds[r] = advPreds[k]!;
      quantized[r] = qPreds[k]!;
      linf[r] = round6(dInf![k]!);
      l2[r] = round6(d2![k]!);
      attacked[r] = true;
    });
    tf.dispose([adv, q, labelTensor]);
    if (!all) sub.dispose();
    cell.gradients += costs.gradients;
    cell.queries += costs.queries;
    cell.seconds += (performance.now() - t0) / 1000;
  }
  cell.predictions.push(...preds);
  cell.quantizedPredictions.push(...quantized);
  cell.linf.push(...linf);
  cell.l2.push(...l2);
  cell.attacked.push(...attacked);
}

/**
 * Sequential mode: an example an earlier attack broke was not attacked again; its result for the
 * later attacks is the adversarial example that broke it, so every row is cumulative.
 */
function carryForward(cells: Cell[][], size: number): void {
  for (const row of cells) {
    for (let k = 1; k < row.length; k++) {
      const prev = row[k - 1]!;
      const cur = row[k]!;
      for (let i = 0; i < size; i++) {
        if (!cur.attacked[i] && prev.attacked[i]) {
          cur.predictions[i] = prev.predictions[i]!;
          cur.quantizedPredictions[i] = prev.quantizedPredictions[i]!;
          cur.linf[i] = prev.linf[i]!;
          cur.l2[i] = prev.l2[i]!;
        }
      }
    }
  }
}

interface AssembleInput {
  model: Classifier;
  data: Dataset;
  attacks: Attack[];
  epsilons: number[];
  seed: number;
  target: TargetSpec;
  mode: SuiteMode;
  batchSize: number;
  cells: Cell[];
  cleanPredictions: number[];
  targets: number[];
  backend: BackendInfo;
  started: number;
  probe?: ModelProbe;
  subset?: string;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function perturbation(cell: Cell): AttackResult['perturbation'] {
  const linf = cell.linf.filter((_, i) => cell.attacked[i]);
  const l2 = cell.l2.filter((_, i) => cell.attacked[i]);
  return {
    meanLinf: round6(mean(linf)),
    maxLinf: round6(Math.max(0, ...linf)),
    meanL2: round6(mean(l2)),
    maxL2: round6(Math.max(0, ...l2)),
  };
}

function assemble(input: AssembleInput): Report {
  const { data, cells, cleanPredictions, targets, epsilons } = input;
  const n = data.size;
  const labels = Array.from(data.labels);
  const cleanCorrect = labels.map((y, i) => cleanPredictions[i] === y);
  const targeted = input.target !== 'untargeted';
  const robust = (preds: number[]) => preds.map((p, i) => cleanCorrect[i]! && p === labels[i]);
  const count = (xs: boolean[]) => xs.filter(Boolean).length;
  const attackedCount = count(cleanCorrect);

  const results: AttackResult[] = cells.map((cell) => {
    const successes = targeted
      ? cell.predictions.filter((p, i) => cleanCorrect[i] && p === targets[i]).length
      : cell.predictions.filter((p, i) => cleanCorrect[i] && p !== labels[i]).length;
    return {
      attack: cell.attack.name,
      norm: cell.attack.norm.name,
      eps: cell.eps,
      ...proportion(count(robust(cell.predictions)), n),
      quantized: proportion(count(robust(cell.quantizedPredictions)), n),
      success: { count: successes, of: attackedCount, rate: attackedCount === 0 ? 0 : round6(successes / attackedCount) },
      attacked: count(cell.attacked),
      perturbation: perturbation(cell),
      costs: { gradients: cell.gradients, queries: cell.queries },
    };
  });

  // Worst case per ε: robust only if the example survives every attack at that ε.
  const survivors = epsilons.map((eps) => {
    const atEps = cells.filter((c) => c.eps === eps);
    const alive = cleanCorrect.map((ok, i) => ok && atEps.every((c) => c.predictions[i] === labels[i]));
    const aliveQ = cleanCorrect.map((ok, i) => ok && atEps.every((c) => c.quantizedPredictions[i] === labels[i]));
    return { eps, alive, aliveQ };
  });
  const worstCase: WorstCase[] = survivors.map(({ eps, alive, aliveQ }) => ({ eps, ...proportion(count(alive), n), quantized: proportion(count(aliveQ), n) }));
  const byEps = [...survivors].sort((a, b) => a.eps - b.eps);
  const fellAt = cleanCorrect.map((ok, i) => (ok ? (byEps.find((s) => !s.alive[i])?.eps ?? null) : 0));

  const examples: ExampleResults = {
    ids: data.ids.slice(0, n),
    labels,
    cleanPredictions,
    results: cells.map((c) => ({ attack: c.attack.name, eps: c.eps, predictions: c.predictions, quantizedPredictions: c.quantizedPredictions, linf: c.linf, l2: c.l2 })),
    fellAt,
  };
  if (targeted) examples.targets = targets;

  const config = {
    attacks: input.attacks.map((a) => ({ name: a.name, norm: a.norm.name, config: a.config })),
    epsilons,
    batchSize: input.batchSize,
    target: describeTarget(input.target),
    mode: input.mode,
  };
  const kinds = new Map<string, AttackKind | undefined>(input.attacks.map((a) => [a.name, a.kind]));
  const { requested: _requested, ...backend } = input.backend;
  void _requested;
  const curves = robustnessCurves(results, worstCase);
  const gradientAttacks = input.attacks.filter((a) => a.kind !== 'black-box');
  return {
    format: REPORT_FORMAT,
    tool: { name: 'advtest', version: toolVersion() },
    versions: { node: process.versions.node, tfjs: input.backend.tfjsVersion },
    backend,
    seed: input.seed,
    configHash: createHash('sha256').update(stableStringify(config)).digest('hex'),
    config,
    model: input.model.describe?.() ?? {},
    data: {
      name: data.name,
      split: data.split,
      size: n,
      shape: [...data.shape],
      fingerprint: fingerprint(data),
      ...(input.subset ? { subset: input.subset } : {}),
    },
    clean: proportion(count(cleanCorrect), n),
    results,
    worstCase,
    ...(curves.length > 0 ? { curves } : {}),
    sanity: sanityChecks(results, kinds, input.mode, input.probe, {
      // Every gradient attack must be adaptive for the flag to count as answered.
      bpda: gradientAttacks.length > 0 && gradientAttacks.every((a) => a.config.bpda !== undefined),
      eot: gradientAttacks.length > 0 && gradientAttacks.every((a) => a.config.eotSamples !== undefined),
    }),
    examples,
    timings: {
      totalSeconds: round6((Date.now() - input.started) / 1000),
      results: cells.map((c) => ({ attack: c.attack.name, eps: c.eps, seconds: round6(c.seconds) })),
      createdAt: new Date().toISOString(),
    },
  };
}
