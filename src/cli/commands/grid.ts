import { Command } from 'commander';
import { renderGridPng } from '../../report/grid-png.js';
import { readReport } from '../../report/read-report.js';
import { checkOutputFile, checkRunPaths } from '../output-path.js';
import { writeFileSafely } from '../../report/write-file.js';
import { parsePositiveInt } from '../../parse.js';
import { logLine } from '../../run/progress.js';
import { besideInput, regenerateFromFile, withGridFilterOptions, withImageOptions, type ImageCliOptions } from './report.js';
import { UserError } from '../../errors.js';
import { describeGridFilter, gridChoices, parseGridFilter } from '../../report/grid-filter.js';

interface GridOptions extends ImageCliOptions {
  out?: string;
  perRow: string;
  scale?: string;
}

export function gridCommand(): Command {
  const cmd = new Command('grid')
    .description('the image grid of an evaluation as a PNG: clean | perturbation (magnified) | adversarial, with predictions')
    .argument('<result>', 'the JSON report written by advtest eval --json')
    .option('--out <file>', 'the PNG to write (default: the result file with -grid.png)')
    .option('--per-row <n>', 'examples side by side', '2')
    .option('--scale <n>', 'screen pixels per image pixel (default: about 112 px per image)');
  return withGridFilterOptions(withImageOptions(cmd)).action(async (file: string, opts: GridOptions) => {
    const report = await readReport(file);
    const filter = parseGridFilter(opts, gridChoices(report));
    // Before regenerating the images: an impossible --out must not fail the run at its end.
    await checkOutputFile(opts.out ?? besideInput(file, '-grid.png'), '--out');
    await checkRunPaths({ models: [opts.model], folders: [opts.dataDir], files: [file], outputs: [{ option: '--out', path: opts.out ?? besideInput(file, '-grid.png') }] });
    const { examples, classNames, notes } = await regenerateFromFile(report, file, opts, filter);
    if (examples.length === 0) {
      throw new UserError(
        Object.keys(filter).length > 0
          ? `no clean-correct example of ${file} matches the grid filter (${describeGridFilter(filter)}): loosen --attack, --eps, --fooled/--robust or --classes`
          : `${file} has no example to draw: none is classified correctly clean`,
      );
    }
    const png = await renderGridPng(examples, {
      perRow: parsePositiveInt(opts.perRow, '--per-row'),
      ...(opts.scale !== undefined ? { scale: parsePositiveInt(opts.scale, '--scale') } : {}),
      classNames,
    });
    const out = opts.out ?? besideInput(file, '-grid.png');
    await writeFileSafely(out, png);
    const quiet = opts.quiet === true;
    for (const note of notes) logLine(quiet, `note: ${note}`);
    logLine(quiet, `advtest: wrote ${out} (${examples.length} examples)`);
  });
}
