import path from 'node:path';
import { buildBenchHtml } from '../report/bench-html.js';
import { benchLeaderboards } from './boards.js';
import { entryWorstCase } from './confirm.js';
import type { EntryResult } from './run.js';

/** The page of `advtest leaderboard --html`: every entry's curve, a leaderboard per ε, each entry's provenance. */
export async function benchHtml(results: EntryResult[], configFile: string, confirm?: { attack: string; eps: number[] }): Promise<string> {
  return buildBenchHtml({
    title: `Benchmark ${path.basename(configFile)}`,
    config: configFile,
    boards: benchLeaderboards(results, confirm),
    entries: results.map((r) => ({
      name: r.adaptive === 'bpda' ? `${r.name} (BPDA)` : r.name,
      report: r.report,
      trainingSeconds: r.trainingSeconds,
      hash: r.hash,
      ...(r.trainingCurve ? { trainingCurve: r.trainingCurve } : {}),
      ...(r.trainingExamples !== undefined ? { trainingExamples: r.trainingExamples } : {}),
      ...(r.trainReport ? { trainWorstCase: r.trainReport.worstCase } : {}),
      // The curves show the worst case the boards rank by.
      ...(r.confirmations?.length ? { worstCase: r.report.config.epsilons.map((eps) => ({ eps, ...entryWorstCase(r, eps) })) } : {}),
    })),
  });
}
