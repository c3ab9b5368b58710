import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../backend/select.js';
import { fingerprint } from '../data/dataset.js';
import { UserError } from '../errors.js';
import { predictClasses, scoresOf } from '../model/scores.js';
import { deriveSeed } from '../tensor/random.js';
import { takeRows } from '../tensor/rows.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { formatEps } from '../number-format.js';
import { assemble, configHash, evaluationConfig, type CellData } from './assemble.js';
import { quantize8 } from '../tensor/finalize.js';
import { classifierWeightsDigest } from './model-digest.js';
import { Journal, JOURNAL_FORMAT, type BatchRecord, type CellRecord } from './journal.js';
import { probeModel } from './probes.js';
import type { AttackDescription, ModelProbeRecord, Report } from './report-types.js';
import { runAttack } from '../../attacks/run-attack.js';
import { fitUniversal, universalRecords } from './universal-fit.js';
import { minimalCell, recordAdversarial, runMinimal, type MinimalRun } from './minimal.js';
import { scoreFacts } from './margins.js';
import { addSums, type ConvergenceSums } from '../report/convergence.js';
import { MAX_TRACE_ITERATIONS, MAX_TRACED_EXAMPLES } from '../../attacks/convergence.js';
import { round6 } from './stats.js';
import { chooseTargets, describeTarget, type TargetSpec } from './targets.js';

export interface EvaluateProgress {
  /** Examples whose whole batch is finished, of `total`. */
  done: number;
  total: number;
  /**
   * Finer progress: example-attacks (one example under one attack at one ε, attacked or already
   * fallen) finished, of examples × attacks × ε. Moves after every (attack, ε) of a batch.
   */
  attacks: { done: number; total: number };
  /** The attack × ε last started (in this thread or a worker), e.g. "pgd ε=0.3". */
  phase?: string;
}

/** What evaluateBatch reports as it goes: a cell started (examples 0) or finished (examples > 0). */
export interface BatchProgress {
  phase: string;
  /** Example-attacks just finished: the batch's examples, once per (attack, ε). */
  examples: number;
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
   * Default here: independent, for any number of attacks. The run layer differs on purpose
   * (attacksFrom in src/run/attack-options.ts, for the CLI, bench and baselines): `--attack a,b`
   * and presets (strong) run sequential unless `--mode independent` is given.
   * Pass `mode: 'sequential'` for the CLI's rows and costs. Every report records `config.mode`
   * and the terminal table names it.
   */
  mode?: SuiteMode;
  /** Run the sanity checks that need extra model passes (gradients, randomness, unbounded ε). Default true. */
  probes?: boolean;
  /**
   * Positions in the evaluated set (at most MAX_TRACED_EXAMPLES) whose loss and margin iterative
   * attacks record per iteration (at most MAX_TRACE_ITERATIONS each): the report's `traces`.
   */
  trace?: number[];
  /** How the evaluated examples were chosen, when not the whole split (goes into the report). */
  subset?: string;
  /** Evaluate only shard `index` of `count` (whole batches), for `advtest merge` to combine. */
  shard?: { index: number; count: number };
  /** Record finished batches in this file and resume from it when it exists. */
  journal?: string;
  /**
   * The examples universal attacks (uap, patch: Attack.fit) learn their perturbation from, before
   * any batch — normally part of the training split. Required when such an attack is given.
   */
  fitData?: Dataset;
  /**
   * Computes batches elsewhere (worker threads, see src/run/worker-pool.ts) instead of in this thread; up to
   * `concurrency` at once. Records are identical to local ones, so the report is too.
   */
  runner?: { concurrency: number; run(batch: number, onProgress?: (p: BatchProgress) => void): Promise<BatchRecord> };
  onProgress?: (p: EvaluateProgress) => void;
}

/** Examples used for the model probes. */
const PROBE_EXAMPLES = 100;

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

function checkOptions(attacks: Attack[], epsilons: number[], shard: EvaluateOptions['shard']): void {
  if (attacks.length === 0) throw new UserError('no attack given: use e.g. --attack fgsm');
  for (const eps of epsilons) {
    if (!(Number.isFinite(eps) && eps >= 0)) throw new UserError(`ε = ${eps} is not a non-negative number: give values like 0.1 or 8/255`);
  }
  const names = attacks.map((a) => a.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UserError(`attack "${dup}" is listed twice: list each attack once`);
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new UserError(`--shard ${shard.index}/${shard.count}: write i/n with 0 ≤ i < n, e.g. --shard 0/4`);
  }
}

export function describeAttacks(attacks: Attack[]): AttackDescription[] {
  return attacks.map((a) => ({ name: a.name, norm: a.norm.name, ...(a.kind ? { kind: a.kind } : {}), config: a.config, ...(a.minimal ? { minimal: true } : {}) }));
}

/** Whole batches [first, last) of shard i of n. */
export function shardBatches(totalBatches: number, shard?: { index: number; count: number }): [number, number] {
  if (!shard) return [0, totalBatches];
  return [Math.floor((totalBatches * shard.index) / shard.count), Math.floor((totalBatches * (shard.index + 1)) / shard.count)];
}

/** Examples per batch when the caller does not say. */
export const DEFAULT_BATCH_SIZE = 128;

/**
 * Evaluates a classifier clean and under each attack at each ε. The harness, not the attack,
 * projects and verifies every adversarial batch and re-predicts the final images; an example is
 * robust only if it was classified correctly clean and stays so (per attack, and for the
 * worst case across attacks, per example).
 */
export async function evaluate(model: Classifier, data: Dataset, attacks: Attack[], epsilons: number[], options: EvaluateOptions = {}): Promise<Report> {
  const started = Date.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const seed = options.seed ?? 0;
  const target = options.target ?? 'untargeted';
  const mode = options.mode ?? 'independent';
  checkOptions(attacks, epsilons, options.shard);
  checkCompatible(model, data);
  const backend = await backendInfo();
  const descriptions = describeAttacks(attacks);
  const config = evaluationConfig({ attacks: descriptions, epsilons, batchSize, target: describeTarget(target), mode });
  const dataFingerprint = fingerprint(data);
  const totalBatches = Math.ceil(data.size / batchSize);
  const [firstBatch, lastBatch] = shardBatches(totalBatches, options.shard);
  // The weights' digest, so that a journal is never resumed against a model replaced in place.
  const weights = options.journal ? await classifierWeightsDigest(model) : undefined;
  const journal = options.journal
    ? new Journal(options.journal, {
        format: JOURNAL_FORMAT,
        configHash: configHash(config),
        fingerprint: dataFingerprint,
        seed,
        model: JSON.stringify(model.describe?.() ?? {}),
        ...(weights !== undefined ? { weights } : {}),
        ...(options.shard ? { shard: options.shard } : {}),
      })
    : undefined;
  const byBatch = new Map<number, BatchRecord>();
  const total = Math.min(lastBatch * batchSize, data.size) - firstBatch * batchSize;
  let done = 0;
  const cellsPerExample = attacks.length * epsilons.length;
  const work = { done: 0, total: total * cellsPerExample };
  let phase: string | undefined;
  const tell = () => options.onProgress?.({ done, total, attacks: { ...work }, ...(phase !== undefined ? { phase } : {}) });
  // Credited per batch as its cells finish; a batch's credit is settled when it ends.
  const onBatchProgress = (credit: { value: number }) => (p: BatchProgress) => {
    phase = p.phase;
    work.done += p.examples;
    credit.value += p.examples;
    tell();
  };
  const trace = options.trace === undefined ? undefined : checkTrace(options.trace, data.size);
  const fits = await fitUniversal(model, attacks, epsilons, (a, eps) => cellSeed(seed, a, eps), options.fitData);
  // Worker threads rebuild the attacks and would hold no fitted perturbation; once fitted, a
  // universal attack costs one forward pass per batch, so its batches run here.
  const runner = fits.length > 0 ? undefined : options.runner;
  const compute = (batch: number, credit: { value: number }) =>
    runner
      ? runner.run(batch, onBatchProgress(credit))
      : evaluateBatch(model, data, attacks, epsilons, { batch, batchSize, seed, target, mode, probes: options.probes !== false, ...(trace ? { trace } : {}) }, onBatchProgress(credit));
  const pending = Array.from({ length: lastBatch - firstBatch }, (_, i) => firstBatch + i);
  const worker = async () => {
    for (let batch = pending.shift(); batch !== undefined; batch = pending.shift()) {
      let record = journal?.done.get(batch);
      const examples = Math.min((batch + 1) * batchSize, data.size) - batch * batchSize;
      const credit = { value: 0 };
      if (!record) {
        record = await compute(batch, credit);
        journal?.append(record);
      }
      byBatch.set(batch, record);
      done += examples;
      work.done += examples * cellsPerExample - credit.value;
      tell();
      // Let progress bars and signals through between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, runner?.concurrency ?? 1) }, worker));
  } finally {
    journal?.close();
  }
  const records = [...byBatch.keys()].sort((a, b) => a - b).map((b) => byBatch.get(b)!);

  const from = firstBatch * batchSize;
  const to = Math.min(lastBatch * batchSize, data.size);
  const report = assemble({
    model: model.describe?.() ?? {},
    data: {
      name: data.name,
      split: data.split,
      shape: [...data.shape],
      fingerprint: dataFingerprint,
      ...(options.subset ? { subset: options.subset } : {}),
      ...(data.notes?.length ? { notes: [...data.notes] } : {}),
      ...(options.shard ? { shard: { ...options.shard, from, to, total: data.size } } : {}),
      ids: data.ids.slice(from, to),
      labels: Array.from(data.labels.subarray(from, to)),
    },
    attacks: descriptions,
    epsilons,
    seed,
    target: describeTarget(target),
    mode,
    batchSize,
    cells: cellsFromRecords(records, attacks.map((a) => a.name), epsilons),
    cleanPredictions: records.flatMap((r) => r.clean),
    ...(records.length > 0 && records.every((r) => r.cleanMargin && r.cleanConfidence)
      ? { cleanMargin: records.flatMap((r) => r.cleanMargin!), cleanConfidence: records.flatMap((r) => r.cleanConfidence!) }
      : {}),
    ...(target !== 'untargeted' ? { targets: records.flatMap((r) => r.targets ?? []) } : {}),
    backend: withoutRequested(backend),
    ...(records.find((r) => r.probe)?.probe ? { probe: records.find((r) => r.probe)!.probe! } : {}),
    totalSeconds: (Date.now() - started) / 1000,
  });
  if (fits.length > 0) report.universal = universalRecords(fits, report, model.bounds);
  return report;
}

function withoutRequested<T extends { requested: unknown }>(info: T): Omit<T, 'requested'> {
  const { requested: _r, ...rest } = info;
  void _r;
  return rest;
}

/** Concatenates batch records into per-(attack, ε) cells over all examples, attack-major. */
export function cellsFromRecords(records: BatchRecord[], attackNames: string[], epsilons: number[]): CellData[] {
  return attackNames.flatMap((attack, k) =>
    epsilons.map((eps, e) => {
      const parts = records.map((r) => r.cells[k * epsilons.length + e]!);
      return {
        attack,
        eps,
        predictions: parts.flatMap((p) => p.predictions),
        quantizedPredictions: parts.flatMap((p) => p.quantizedPredictions),
        ...(parts.length > 0 && parts.every((p) => p.minimal) ? { minimal: parts.flatMap((p) => p.minimal!) } : {}),
        linf: parts.flatMap((p) => p.linf),
        l2: parts.flatMap((p) => p.l2),
        attacked: parts.flatMap((p) => p.attacked),
        ...marginsOf(parts),
        ...(parts.some((p) => p.traces) ? { traces: parts.flatMap((p) => p.traces ?? []) } : {}),
        gradients: parts.reduce((a, p) => a + p.gradients, 0),
        queries: parts.reduce((a, p) => a + p.queries, 0),
        seconds: parts.reduce((a, p) => a + p.seconds, 0),
        ...convergenceOf(parts),
      };
    }),
  );
}

/**
 * The margins of a cell's batches joined, a batch that attacked nothing counting as all null;
 * nothing when some batch comes from a journal written before margins were recorded.
 */
function marginsOf(parts: CellRecord[]): Pick<CellRecord, 'margin' | 'confidence'> {
  if (parts.length === 0 || !parts.some((p) => p.margin)) return {};
  const nulls = (p: CellRecord) => new Array<null>(p.predictions.length).fill(null);
  return { margin: parts.flatMap((p) => p.margin ?? nulls(p)), confidence: parts.flatMap((p) => p.confidence ?? nulls(p)) };
}

/** The convergence sums of a cell's batches added up; nothing when no batch recorded any. */
function convergenceOf(parts: CellRecord[]): { convergence?: ConvergenceSums } {
  const sums = parts.reduce<ConvergenceSums | undefined>((a, p) => addSums(a, p.convergence), undefined);
  return sums ? { convergence: sums } : {};
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

/** The traced positions, checked: a few, inside the evaluated set. */
function checkTrace(trace: number[], size: number): number[] {
  if (trace.length > MAX_TRACED_EXAMPLES) throw new UserError(`trace: ${trace.length} examples asked, at most ${MAX_TRACED_EXAMPLES} can be traced (each keeps up to ${MAX_TRACE_ITERATIONS} iterations per attack and ε)`);
  const outside = trace.find((i) => !Number.isInteger(i) || i < 0 || i >= size);
  if (outside !== undefined) throw new UserError(`trace: example ${outside} is not in the evaluated set (positions 0–${size - 1})`);
  return [...new Set(trace)];
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
    let criterionLabels = labels;
    if (job.target !== 'untargeted') criterionLabels = chooseTargets(job.target, cleanLogits, labels, start, job.seed);
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
          : await attackBatch(model, attack, eps, x, clean, criterionLabels, standing, start, job.target !== 'untargeted', job.seed, labels, job.trace);
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

/** Attacks the standing rows of one batch at one ε; rows not attacked keep their clean prediction. */
async function attackBatch(
  model: Classifier,
  attack: Attack,
  eps: number,
  x: tf.Tensor4D,
  clean: Int32Array,
  criterionLabels: Int32Array,
  rows: number[],
  start: number,
  targeted: boolean,
  seed: number,
  trueLabels?: ArrayLike<number>,
  trace?: number[],
): Promise<CellRecord> {
  const n = x.shape[0];
  const cell: CellRecord = {
    predictions: Array.from(clean),
    quantizedPredictions: Array.from(clean),
    linf: new Array<number>(n).fill(0),
    l2: new Array<number>(n).fill(0),
    attacked: new Array<number>(n).fill(0),
    gradients: 0,
    queries: 0,
    seconds: 0,
  };
  // At ε = 0 the only admissible image is the clean one: nothing to attack.
  if (rows.length === 0 || eps === 0) return cell;
  const t0 = performance.now();
  const all = rows.length === n;
  const sub = all ? x : takeRows(x, rows);
  const labelTensor = tf.tensor1d(Int32Array.from(rows, (r) => criterionLabels[r]!), 'int32');
  try {
    const indices = Int32Array.from(rows, (r) => start + r);
    const { adv, costs, convergence, traces } = await runAttack(model, attack, sub, { labels: labelTensor, targeted }, eps, cellSeed(seed, attack, eps), indices, trace ? new Set(trace) : undefined);
    if (convergence) cell.convergence = convergence;
    if (traces) cell.traces = traces;
    await recordAdversarial(model, cell, rows, adv, sub, trueLabels);
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
