import { rm } from 'node:fs/promises';
import { loadEvaluationData } from '../data/index.js';
import { isOutOfMemory, outOfMemoryError } from '../harness/batch-size.js';
import { evaluate, shardBatches, type SuiteMode } from '../harness/evaluate.js';
import type { Report } from '../harness/report-types.js';
import type { TargetSpec } from '../harness/targets.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { writeEvaluationHtml } from '../report/write-html.js';
import type { GridFilter } from '../report/grid-filter.js';
import type { Attack, Classifier } from '../types.js';
import { checkOutputFile } from './output-path.js';
import { lockOutput } from '../harness/output-lock.js';
import { writeFileSafely } from '../report/write-file.js';
import { checkBudgets } from '../harness/budgets.js';
import { embedUniversalImages, writeUniversalImages } from '../report/universal-files.js';
import { DEFAULT_FIT_SIZE } from '../../attacks/universal.js';
import { UserError } from '../errors.js';
import { sourceFigures, transferText, type TransferSource } from '../run/transfer.js';
import { phaseProgress } from './commands/report.js';
import type { EvaluationRequest } from '../run/requests.js';
import { checkEotFits } from '../harness/eot-fit.js';
import { logLine, progressBar } from '../run/progress.js';
import { evaluationPool } from '../run/worker-pool.js';

export interface RunEvalOptions {
  model: Classifier;
  data: string;
  dataDir?: string;
  /** Default 'test'. */
  split?: 'train' | 'test';
  attacks: Attack[];
  mode?: SuiteMode;
  epsilons: number[];
  limit?: number;
  seed: number;
  batchSize: number;
  target: TargetSpec;
  quiet: boolean;
  /** true: JSON on stdout instead of the table; a path: also write the JSON there (and journal next to it). */
  json?: boolean | string;
  shard?: { index: number; count: number };
  /** Also write the self-contained HTML report (curves, tables, image grid) to this file. */
  html?: string;
  /** Which examples the HTML report's image grid shows. */
  gridFilter?: GridFilter;
  /** Positions of the examples whose loss and margin are traced per iteration (--trace). */
  trace?: number[];
  /** Markdown tables on stdout instead of the terminal table. */
  md?: boolean;
  /** Every column in the terminal table (by default it fits 100 columns). */
  wide?: boolean;
  /** Compute batches in this many worker threads, each rebuilding the evaluation from `request`. */
  workers?: { count: number; request: EvaluationRequest };
  /** --source-model: the attacks in `attacks` are crafted on it; its white-box figures go into report.transfer. */
  source?: TransferSource;
  /** Training examples universal attacks (uap, patch) fit on: a class-balanced subset of the training split. */
  fitSize?: number;
}

/** Loads the split (test by default), evaluates, prints the table (or JSON), writes the JSON file atomically. */
export async function runEvaluation(o: RunEvalOptions): Promise<Report> {
  // Two runs writing the same report (and journal) at once: the second is refused (once the path is known to be writable).
  if (typeof o.json === 'string') await checkOutputFile(o.json, '--json');
  const release = typeof o.json === 'string' ? lockOutput(o.json, '--json') : undefined;
  try {
    return await evaluateAndWrite(o);
  } finally {
    release?.();
  }
}

async function evaluateAndWrite(o: RunEvalOptions): Promise<Report> {
  // Before any work: a path that cannot be written must not fail the run at its very end.
  if (typeof o.json === 'string') await checkOutputFile(o.json, '--json');
  if (o.html !== undefined) await checkOutputFile(o.html, '--html');
  checkBudgets(o.attacks, o.epsilons, o.model);
  const eotNote = checkEotFits(o.model, o.attacks);
  if (eotNote !== undefined) logLine(o.quiet, `note: ${eotNote}`);
  const { data, subset } = await loadEvaluationData(o.data, { split: o.split ?? 'test', shape: o.model.inputShape, classNames: o.model.classNames, dataDir: o.dataDir, limit: o.limit });
  if (o.limit !== undefined && o.limit > data.size) {
    logLine(o.quiet, `note: --limit ${o.limit} is more than the ${data.size} examples of ${data.name}${data.split === 'all' ? '' : ` ${data.split}`}: evaluating all ${data.size}`);
  }
  // Progress in example-attacks (one example under one attack at one ε), which move after every
  // (attack, ε) of a batch, so that long attacks do not leave the bar standing still.
  const [firstBatch, lastBatch] = shardBatches(Math.ceil(data.size / o.batchSize), o.shard);
  const examples = Math.min(lastBatch * o.batchSize, data.size) - firstBatch * o.batchSize;
  const bar = progressBar('evaluating', examples * o.attacks.length * o.epsilons.length, o.quiet, ' | {phase}', { unit: 'attacks' });
  // Universal attacks (uap, patch) learn their perturbation from the training split first.
  const universal = o.attacks.some((a) => a.fit);
  const fitData = universal
    ? (await loadEvaluationData(o.data, { split: 'train', shape: o.model.inputShape, classNames: o.model.classNames, dataDir: o.dataDir, limit: o.fitSize ?? DEFAULT_FIT_SIZE })).data
    : undefined;
  if (fitData && fitData.split === 'all') throw new UserError(`${o.data} has no training split to fit ${o.attacks.find((a) => a.fit)!.name} on, apart from the evaluated examples: use mnist or fashion-mnist`);
  // Their batches run in this thread (evaluate fits once, here): no worker pool.
  const pool = o.workers && !universal
    ? evaluationPool(o.workers.count, Math.ceil(data.size / o.batchSize), o.workers.request, { batchSize: o.batchSize, seed: o.seed, probes: true, epsilons: o.epsilons, ...(o.trace ? { trace: o.trace } : {}) })
    : undefined;
  const report = await evaluate(o.model, data, o.attacks, o.epsilons, {
    ...(pool ? { runner: pool.evaluationRunner() } : {}),
    seed: o.seed,
    batchSize: o.batchSize,
    target: o.target,
    ...(o.mode ? { mode: o.mode } : {}),
    subset,
    ...(fitData ? { fitData } : {}),
    ...(o.shard ? { shard: o.shard } : {}),
    ...(o.trace ? { trace: o.trace } : {}),
    // A run writing its report to a file journals finished batches beside it, to resume after a kill.
    ...(typeof o.json === 'string' ? { journal: `${o.json}.journal` } : {}),
    onProgress: (p) => bar.update(p.attacks.done, { phase: `${p.phase ?? ''}${pool ? ` (${pool.size} workers)` : ''} · ${p.done}/${p.total} examples done` }),
  })
    .catch((err: unknown) => {
      throw isOutOfMemory(err) ? outOfMemoryError(o.batchSize, o.model.inputShape) : err;
    })
    .finally(() => {
      bar.stop();
      return pool?.close();
    });
  if (o.source) {
    logLine(o.quiet, `transfer: the same attacks on the source ${o.source.name} (white-box)`);
    report.transfer = await sourceFigures(o.source, data, o.epsilons, { seed: o.seed, batchSize: o.batchSize, target: o.target, ...(o.mode ? { mode: o.mode } : {}), subset, ...(o.shard ? { shard: o.shard } : {}) });
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
  if (o.html !== undefined) await writeEvaluationHtml(o.html, o.model, data, report, { attacks: o.attacks, onPhase: phaseProgress(o.quiet), ...(o.gridFilter ? { filter: o.gridFilter } : {}) });
  process.stdout.write(o.json === true ? json : o.md ? renderMarkdown({ report }) : renderText(report, { wide: o.wide === true }) + '\n' + transferText(report));
  return report;
}
