import { rm } from 'node:fs/promises';
import { loadEvaluationData } from '../data/index.js';
import { isOutOfMemory, outOfMemoryError } from '../harness/batch-size.js';
import { evaluate, shardBatches, type SuiteMode } from '../harness/evaluate.js';
import type { Report } from '../harness/report.js';
import type { TargetSpec } from '../harness/targets.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { writeEvaluationHtml } from '../report/write-html.js';
import type { Attack, Classifier } from '../types.js';
import { checkOutputFile } from './output-path.js';
import { lockOutput } from '../harness/output-lock.js';
import { writeFileSafely } from '../report/write-file.js';
import { checkEpsAgainstRange } from './parse.js';
import { phaseProgress } from './commands/report.js';
import type { EvaluationRequest } from './evaluation-request.js';
import { checkEotFits } from '../harness/eot-fit.js';
import { logLine, progressBar } from './progress.js';
import { startWorkerPool } from './worker-pool.js';

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
  /** Markdown tables on stdout instead of the terminal table. */
  md?: boolean;
  /** Every column in the terminal table (by default it fits 100 columns). */
  wide?: boolean;
  /** Compute batches in this many worker threads, each rebuilding the evaluation from `request`. */
  workers?: { count: number; request: EvaluationRequest };
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
  checkEpsAgainstRange(o.epsilons, o.model.bounds.upper - o.model.bounds.lower);
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
  const pool = o.workers
    ? startWorkerPool(o.workers.count, Math.ceil(data.size / o.batchSize), {
        kind: 'evaluate',
        request: o.workers.request,
        job: { batchSize: o.batchSize, seed: o.seed, probes: true, epsilons: o.epsilons },
      })
    : undefined;
  const report = await evaluate(o.model, data, o.attacks, o.epsilons, {
    ...(pool ? { runner: pool.evaluationRunner() } : {}),
    seed: o.seed,
    batchSize: o.batchSize,
    target: o.target,
    ...(o.mode ? { mode: o.mode } : {}),
    subset,
    ...(o.shard ? { shard: o.shard } : {}),
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
  const json = JSON.stringify(report, null, 2) + '\n';
  if (typeof o.json === 'string') {
    await writeFileSafely(o.json, json);
    await rm(`${o.json}.journal`, { force: true });
  }
  if (o.html !== undefined) await writeEvaluationHtml(o.html, o.model, data, report, { attacks: o.attacks, onPhase: phaseProgress(o.quiet) });
  process.stdout.write(o.json === true ? json : o.md ? renderMarkdown({ report }) : renderText(report, { wide: o.wide === true }) + '\n');
  return report;
}
