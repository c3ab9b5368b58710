import { backendInfo } from '../backend/select.js';
import { fingerprint } from '../data/dataset.js';
import { UserError } from '../errors.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { assemble, configHash, evaluationConfig, type CellData } from './assemble.js';
import { classifierWeightsDigest } from './model-digest.js';
import { Journal, JOURNAL_FORMAT, type BatchRecord, type CellRecord } from './journal.js';
import type { AttackDescription, Report } from './report-types.js';
import { chargeFitCosts, fitUniversal, universalRecords } from './universal-fit.js';
import { addSums, type ConvergenceSums } from '../report/convergence.js';
import { MAX_TRACE_ITERATIONS, MAX_TRACED_EXAMPLES } from '../../attacks/convergence.js';
import { describeTarget, type TargetSpec } from './targets.js';
import { cellSeed, evaluateBatch, type BatchProgress, type SuiteMode } from './evaluate-batch.js';

// The scheduling of an evaluation: options checked, universal attacks fitted, batches handed to
// this thread or to a runner (worker threads), journalled, sharded, and assembled into a Report.
// The maths of one batch is evaluate-batch.ts.
export type { SuiteMode };

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
  // The backend that ran; which one was asked for is the command line's business, not the report's.
  const { requested: _requested, ...backend } = await backendInfo();
  const descriptions = describeAttacks(attacks);
  const config = evaluationConfig({ attacks: descriptions, epsilons, batchSize, target: describeTarget(target), mode });
  const dataFingerprint = fingerprint(data);
  const totalBatches = Math.ceil(data.size / batchSize);
  const [firstBatch, lastBatch] = shardBatches(totalBatches, options.shard);
  const journal = options.journal
    ? new Journal(options.journal, {
        format: JOURNAL_FORMAT,
        configHash: configHash(config),
        fingerprint: dataFingerprint,
        seed,
        model: JSON.stringify(model.describe?.() ?? {}),
        // The weights' digest, so that a journal is never resumed against a model replaced in place.
        weights: await classifierWeightsDigest(model),
        shard: options.shard,
        trace: options.trace,
      })
    : undefined;
  const byBatch = new Map<number, BatchRecord>();
  // The examples of this shard, [from, to).
  const from = firstBatch * batchSize;
  const to = Math.min(lastBatch * batchSize, data.size);
  const total = to - from;
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
  const concurrency = Math.max(1, runner?.concurrency ?? 1);
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    journal?.close();
  }
  const records = [...byBatch.keys()].sort((a, b) => a - b).map((b) => byBatch.get(b)!);

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
    backend,
    ...(records.find((r) => r.probe)?.probe ? { probe: records.find((r) => r.probe)!.probe! } : {}),
    totalSeconds: (Date.now() - started) / 1000,
    concurrency,
  });
  if (fits.length > 0) {
    chargeFitCosts(fits, report);
    report.universal = universalRecords(fits, report, model.bounds);
  }
  return report;
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

/** The traced positions, checked: a few, inside the evaluated set. */
function checkTrace(trace: number[], size: number): number[] {
  if (trace.length > MAX_TRACED_EXAMPLES) throw new UserError(`trace: ${trace.length} examples asked, at most ${MAX_TRACED_EXAMPLES} can be traced (each keeps up to ${MAX_TRACE_ITERATIONS} iterations per attack and ε)`);
  const outside = trace.find((i) => !Number.isInteger(i) || i < 0 || i >= size);
  if (outside !== undefined) throw new UserError(`trace: example ${outside} is not in the evaluated set (positions 0–${size - 1})`);
  return [...new Set(trace)];
}
