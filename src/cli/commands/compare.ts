import { Command } from 'commander';
import { compareCurveSpec, compareRuns, runLabels } from '../../report/compare.js';
import { compareMarkdown, renderCompareHtml } from '../../report/compare-html.js';
import { readReport } from '../../report/read-report.js';
import { specToSvg } from '../../report/vega-svg.js';
import { writeFileSafely } from '../../report/write-file.js';
import { UserError } from '../../errors.js';
import { checkOutputFile } from '../output-path.js';
import { logLine } from '../../run/progress.js';

interface CompareOptions {
  html?: string;
  json?: boolean;
  quiet?: boolean;
}

export function compareCommand(): Command {
  return new Command('compare')
    .description('compare evaluations against the first: curves on one chart, examples lost and gained, per-class changes, every sanity check')
    .argument('<reports...>', 'two or more JSON reports written by advtest eval --json; the first is the baseline')
    .option('--html <file>', 'write the comparison as a self-contained HTML page')
    .option('--json', 'print the comparison as JSON instead of Markdown')
    .option('--quiet', 'no log lines on stderr')
    .action(async (files: string[], opts: CompareOptions) => {
      if (files.length < 2) throw new UserError(`compare needs at least two reports, got ${files.length}: give the baseline first, e.g. advtest compare a.json b.json`);
      if (opts.html !== undefined) await checkOutputFile(opts.html, '--html');
      const labels = runLabels(files);
      const runs = [];
      for (const [i, file] of files.entries()) runs.push({ label: labels[i]!, file, report: await readReport(file) });
      const comparison = compareRuns(runs);
      if (opts.html !== undefined) {
        await writeFileSafely(opts.html, renderCompareHtml(comparison, await specToSvg(compareCurveSpec(runs))));
        logLine(opts.quiet === true, `advtest: wrote ${opts.html}`);
      }
      const { runs: _r, ...rest } = comparison;
      process.stdout.write(opts.json ? JSON.stringify({ format: 'advtest-compare/1', runs: files, ...rest }, null, 2) + '\n' : compareMarkdown(comparison));
    });
}
