import { rm } from 'node:fs/promises';
import { loadEvaluationData } from '../data/index.js';
import { isOutOfMemory, outOfMemoryError } from '../harness/batch-size.js';
import { evaluate, shardBatches, type EvaluateOptions, type EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report-types.js';
import { writeEvaluationHtml } from '../report/write-html.js';
import type { RegenerateOptions } from '../report/regenerate.js';
import type { GridFilter } from '../report/grid-filter.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { lockOutput } from '../harness/output-lock.js';
import { writeFileSafely } from '../report/write-file.js';
import { checkAttackSetup } from '../harness/budgets.js';
import { embedUniversalImages, writeUniversalImages } from '../report/universal-files.js';
import { DEFAULT_FIT_SIZE } from '../../attacks/universal.js';
import { UserError } from '../errors.js';
import { sourceFigures } from './transfer.js';
import type { EvaluationRequest, Materialized } from './requests.js';
import { logLine, progressBar } from './progress.js';
import { startWorkerPool } from './worker-pool.js';

/** The materialized run (model, attacks, target, transfer source) and how to run and write it; `data` absent: loaded here from the request. */
export interface RunEvalOptions extends Omit<Materialized, 'data' | 'mode'>, Partial<Pick<Materialized, 'data'>>, Pick<EvaluateOptions, 'mode' | 'shard' | 'trace'> {
  /** The run as plain data: its data, split, limit and seed are used here; worker threads rebuild the evaluation from it. */
  request: EvaluationRequest;
  epsilons: number[];
  batchSize: number;
  quiet: boolean;
  /** A path: write the JSON report there (and journal next to it); the caller has checked it can be written. */
  json?: boolean | string;
  /** Also write the self-contained HTML report (curves, tables, image grid) to this file. */
  html?: string;
  /** Which examples the HTML report's image grid shows. */
  gridFilter?: GridFilter;
  /** Progress of the HTML report's image regeneration. */
  onPhase?: RegenerateOptions['onPhase'];
  /** Compute batches in this many worker threads, each rebuilding the evaluation from `request`. */
  workers?: number;
  /** Training examples universal attacks (uap, patch) fit on: a class-balanced subset of the training split. */
  fitSize?: number;
}

/**
 * Loads the split (test by default) unless given, evaluates, writes the JSON file atomically and
 * the HTML report; returns the report and its JSON text (printing is the caller's).
 */
export async function runEvaluation(o: RunEvalOptions): Promise<{ report: Report; json: string }> {
  // Two runs writing the same report (and journal) at once: the second is refused.
  const release = typeof o.json === 'string' ? lockOutput(o.json, '--json') : undefined;
  try {
    return await evaluateAndWrite(o);
  } finally {
    release?.();
  }
}

async function evaluateAndWrite(o: RunEvalOptions): Promise<{ report: Report; json: string }> {
  checkAttackSetup(o.model, o.attacks, o.epsilons, (note) => logLine(o.quiet, `note: ${note}`));
  const { limit, dataDir, seed } = o.request;
  const load = (split: 'train' | 'test', count: number | undefined) => loadEvaluationData(o.request.data, { split, shape: o.model.inputShape, classNames: o.model.classNames, dataDir, limit: count });
  const { data, subset } = o.data ? { data: o.data, subset: o.subset } : await load(o.request.split ?? 'test', limit);
  if (limit !== undefined && limit > data.size) {
    logLine(o.quiet, `note: --limit ${limit} is more than the ${data.size} examples of ${data.name}${data.split === 'all' ? '' : ` ${data.split}`}: evaluating all ${data.size}`);
  }
  // Progress in example-attacks (one example under one attack at one ε), which move after every
  // (attack, ε) of a batch, so that long attacks do not leave the bar standing still.
  const [firstBatch, lastBatch] = shardBatches(Math.ceil(data.size / o.batchSize), o.shard);
  const examples = Math.min(lastBatch * o.batchSize, data.size) - firstBatch * o.batchSize;
  const bar = progressBar('evaluating', examples * o.attacks.length * o.epsilons.length, o.quiet, ' | {phase}', { unit: 'attacks' });
  // Universal attacks (uap, patch) learn their perturbation from the training split first.
  const universal = o.attacks.some((a) => a.fit);
  const fitData = universal ? (await load('train', o.fitSize ?? DEFAULT_FIT_SIZE)).data : undefined;
  if (fitData && fitData.split === 'all') throw new UserError(`${o.request.data} has no training split to fit ${o.attacks.find((a) => a.fit)!.name} on, apart from the evaluated examples: use mnist or fashion-mnist`);
  let threads: number | undefined;
  // The settings the source model's white-box figures share with the run.
  const shared = { seed, batchSize: o.batchSize, target: o.target, mode: o.mode, subset, shard: o.shard };
  const options = {
    ...shared,
    fitData,
    trace: o.trace,
    // A run writing its report to a file journals finished batches beside it, to resume after a kill.
    ...(typeof o.json === 'string' ? { journal: `${o.json}.journal` } : {}),
    onProgress: (p: EvaluateProgress) => bar.update(p.attacks.done, { phase: `${p.phase ?? ''}${threads ? ` (${threads} workers)` : ''} · ${p.done}/${p.total} examples done` }),
  };
  // Universal attacks' batches run in this thread (evaluate fits once, here): no worker pool.
  const workers = o.workers && !universal ? { count: o.workers, request: o.request } : undefined;
  const report = await evaluateOnWorkers(o.model, data, o.attacks, o.epsilons, options, workers, (n) => (threads = n))
    .catch((err: unknown) => {
      throw isOutOfMemory(err) ? outOfMemoryError(o.batchSize, o.model.inputShape) : err;
    })
    .finally(() => bar.stop());
  if (o.source) {
    logLine(o.quiet, `transfer: the same attacks on the source ${o.source.name} (white-box)`);
    report.transfer = await sourceFigures(o.source, data, o.epsilons, shared);
  }
  if (report.universal) await embedUniversalImages(report.universal);
  const nextTo = typeof o.json === 'string' ? o.json : o.html;
  if (report.universal && nextTo !== undefined) {
    for (const file of await writeUniversalImages(report.universal, nextTo)) logLine(o.quiet, `wrote ${file}`);
  }
  const json = JSON.stringify(report, null, 2) + '\n';
  if (typeof o.json === 'string') {
    await writeFileSafely(o.json, json);
    await rm(`${o.json}.journal`, { force: true });
  }
  if (o.html !== undefined) await writeEvaluationHtml(o.html, o.model, data, report, { attacks: o.attacks, ...(o.onPhase ? { onPhase: o.onPhase } : {}), ...(o.gridFilter ? { filter: o.gridFilter } : {}) });
  return { report, json };
}

/**
 * `evaluate`, its batches computed on `workers` threads when given, each rebuilding the evaluation
 * from `request` (the records, so the report, are identical); `onStart` hears how many started.
 */
export async function evaluateOnWorkers(model: Classifier, data: Dataset, attacks: Attack[], epsilons: number[], o: EvaluateOptions & { seed: number; batchSize: number }, workers?: { count: number; request: EvaluationRequest }, onStart?: (threads: number | undefined) => void): Promise<Report> {
  const job = { batchSize: o.batchSize, seed: o.seed, probes: true, epsilons, ...(o.trace ? { trace: o.trace } : {}) };
  const pool = workers ? startWorkerPool(workers.count, Math.ceil(data.size / o.batchSize), { kind: 'evaluate', request: workers.request, job }) : undefined;
  onStart?.(pool?.size);
  return evaluate(model, data, attacks, epsilons, { ...o, ...(pool ? { runner: pool.evaluationRunner() } : {}) }).finally(() => pool?.close());
}
