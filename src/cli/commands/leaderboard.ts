import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { writeFileSafely } from '../../report/write-file.js';
import { loadBenchConfig } from '../../leaderboard/config.js';
import { benchLeaderboards } from '../../leaderboard/boards.js';
import { confirmEpsilons } from '../../leaderboard/confirm.js';
import { runBench } from '../../leaderboard/run.js';
import { benchHtml } from '../../leaderboard/html.js';
import { renderMarkdown } from '../../report/markdown.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { resolveWorkers } from '../../backend/select.js';
import { logLine, progressBar, type Progress, type ProgressOptions } from '../../run/progress.js';
import { checkRunPaths } from '../output-path.js';

interface LeaderboardCliOptions extends CommonOptions {
  config: string;
  out: string;
  json?: boolean;
  html?: string;
  only?: string;
  workers: string;
}

/** The defense leaderboard; `bench`, its name before, stays as an alias (`npm run bench` is the speed benchmark). */
export function leaderboardCommand(): Command {
  const cmd = new Command('leaderboard')
    .alias('bench')
    .description('train one model per defense entry of a config, evaluate all with the same attacks and ε grid, and rank them')
    .requiredOption('--config <file>', 'benchmark config (JSON), e.g. fixtures/bench/defenses.json')
    .option('--out <dir>', 'where models, per-entry results and the leaderboard go (re-running resumes)', 'bench-results')
    .option('--json', 'print the leaderboards as JSON instead of Markdown tables')
    .option('--only <names>', 'compute only these entries (comma-separated); the rest come from earlier runs if done — lets several processes share one --out')
    .option('--html <file>', 'also write a self-contained HTML page: every entry\'s curve over the ε grid, a sortable leaderboard per ε, and each entry\'s provenance')
    .option('--workers <n>', 'worker threads sharing each evaluation\'s batches: a number, or auto (measured at start-up) (results are identical for any n)', String(availableParallelism()));
  return withCommonOptions(cmd).action(async (opts: LeaderboardCliOptions) => {
    await checkRunPaths({ files: [opts.config], outputs: [{ option: '--out', path: opts.out }, { option: '--html', path: opts.html }] });
    const { quiet } = await setup(opts);
    const workers = await resolveWorkers(opts.workers);
    const config = await loadBenchConfig(opts.config);
    // One bar per entry and phase, ended when it finishes: the next entry's training prints its own bar and epoch lines.
    let bar: Progress | undefined;
    let current = '';
    const show = (title: string, done: number, total: number, phase: string, finished: boolean, options: ProgressOptions = {}): void => {
      if (title !== current) {
        bar?.stop();
        bar = progressBar(title, total, quiet, ' | {phase}', options);
        current = title;
      }
      bar?.update(done, { phase });
      if (finished) {
        bar?.stop();
        bar = undefined;
        current = '';
      }
    };
    const results = await runBench(config, {
      file: opts.config,
      out: opts.out,
      quiet,
      workers: { count: workers, backend: opts.backend },
      ...(opts.only !== undefined ? { only: opts.only.split(',').map((s) => s.trim()).filter((s) => s.length > 0) } : {}),
      log: (line) => logLine(quiet, line),
      onEvalProgress: (entry, p) => show(`evaluating ${entry}`, p.attacks.done, p.attacks.total, `${p.phase ?? ''} · ${p.done}/${p.total} examples done`, p.done === p.total, { unit: 'attacks' }),
      onCertifyProgress: (entry, p) => show(`certifying ${entry}`, p.done, p.total, p.phase, p.done === p.total),
    });
    bar?.stop();
    const confirm = config.confirm ? { attack: config.confirm.attack, eps: confirmEpsilons(config) } : undefined;
    const boards = benchLeaderboards(results, confirm);
    const file = path.join(opts.out, 'leaderboard.json');
    await writeFileSafely(file, JSON.stringify({ config: opts.config, leaderboards: boards, entries: results.map((r) => ({ name: r.name, adaptive: r.adaptive, trainingSeconds: r.trainingSeconds, report: `entries/${r.name}.json` })) }, null, 2) + '\n');
    if (opts.html) await writeFileSafely(opts.html, await benchHtml(results, opts.config, confirm));
    process.stdout.write(opts.json ? JSON.stringify(boards, null, 2) + '\n' : boards.map((leaderboard) => renderMarkdown({ title: `Benchmark ${path.basename(opts.config)}`, leaderboard })).join('\n'));
    logLine(quiet, `leaderboard: ${file}`);
  });
}
