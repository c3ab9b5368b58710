import { rm } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { loadEvaluationData } from '../data/index.js';
import { evaluate, type SuiteMode } from '../harness/evaluate.js';
import type { Report } from '../harness/report.js';
import type { TargetSpec } from '../harness/targets.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { writeEvaluationHtml } from '../report/write-html.js';
import type { Attack, Classifier } from '../types.js';
import { checkOutputFile } from './output-path.js';
import { checkEpsAgainstRange } from './parse.js';
import { phaseProgress } from './commands/report.js';
import type { EvaluationRequest } from './evaluation-request.js';
import { progressBar } from './progress.js';
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
  /** Compute batches in this many worker threads, each rebuilding the evaluation from `request`. */
  workers?: { count: number; request: EvaluationRequest };
}

/** Loads the split (test by default), evaluates, prints the table (or JSON), writes the JSON file atomically. */
export async function runEvaluation(o: RunEvalOptions): Promise<Report> {
  // Before any work: a path that cannot be written must not fail the run at its very end.
  if (typeof o.json === 'string') await checkOutputFile(o.json, '--json');
  if (o.html !== undefined) await checkOutputFile(o.html, '--html');
  checkEpsAgainstRange(o.epsilons, o.model.bounds.upper - o.model.bounds.lower);
  const { data, subset } = await loadEvaluationData(o.data, { split: o.split ?? 'test', shape: o.model.inputShape, dataDir: o.dataDir, limit: o.limit });
  const bar = progressBar('evaluating', data.size, o.quiet, ' | {phase}');
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
    onProgress: (p) => bar.update(p.done, { phase: p.phase ?? (pool ? `${pool.size} workers` : '') }),
  }).finally(() => pool?.close());
  bar.stop();
  const json = JSON.stringify(report, null, 2) + '\n';
  if (typeof o.json === 'string') {
    await writeFileAtomic(o.json, json);
    await rm(`${o.json}.journal`, { force: true });
  }
  if (o.html !== undefined) await writeEvaluationHtml(o.html, o.model, data, report, { attacks: o.attacks, onPhase: phaseProgress(o.quiet) });
  process.stdout.write(o.json === true ? json : o.md ? renderMarkdown({ report }) : renderText(report) + '\n');
  return report;
}
