import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../../backend/select.js';
import { formatEps } from '../../number-format.js';
import type { Report } from '../../harness/report-types.js';
import { renderCertifyHtml } from '../../certify/html.js';
import { CERTIFY_FORMAT, type CertifyReport } from '../../certify/report.js';
import { UserError } from '../../errors.js';
import { buildHtml } from '../../report/build-html.js';
import { gridChoices, parseGridFilter, type GridFilter, type GridFilterInput } from '../../report/grid-filter.js';
import { renderMarkdown } from '../../report/markdown.js';
import { readReport } from '../../report/read-report.js';
import { DEFAULT_GRID_EXAMPLES, examplesOfReportFile, type ReportExamples } from '../../report/example-images.js';
import type { RegenerateOptions } from '../../report/regenerate.js';
import { checkOutputFile, checkRunPaths } from '../output-path.js';
import { writeFileSafely } from '../../report/write-file.js';
import { parsePositiveInt } from '../../parse.js';
import { logLine, progressBar, type Progress } from '../../run/progress.js';

/** The options of every command that regenerates a report's adversarial examples. */
export interface ImageCliOptions extends GridFilterInput {
  model?: string;
  dataDir?: string;
  examples: string;
  backend: BackendChoice;
  quiet?: boolean;
}

export function withImageOptions(cmd: Command): Command {
  return cmd
    .option('--model <dir>', "the evaluated model's folder (default: the path in the report, then relative to the report file)")
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files, as given to eval')
    .option('--examples <n>', 'examples in the image grid, those fooled at the smallest ε first', String(DEFAULT_GRID_EXAMPLES))
    .addOption(new Option('--backend <name>', 'backend to regenerate the images on').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--quiet', 'no progress bars or log lines on stderr');
}

/** The options choosing which examples the image grid shows (checked by parseGridFilter). */
export function withGridFilterOptions(cmd: Command): Command {
  return cmd
    .option('--attack <name>', "the grid shows only this attack's images")
    .option('--eps <x>', 'the grid shows only images at this ε (one of the report\'s)')
    .option('--fooled', 'the grid shows only examples the attack fooled')
    .option('--robust', 'the grid shows only examples that held')
    .option('--classes <a,b>', 'the grid shows only examples of these true classes (numbers or class names)');
}

/** One progress bar per (attack, ε) phase of the regeneration, on stderr. */
export function phaseProgress(quiet: boolean): RegenerateOptions['onPhase'] {
  let bar: Progress | undefined;
  return ({ attack, eps, examples, done }) => {
    if (!done) {
      bar = progressBar(`${attack} ε=${formatEps(eps)}`, examples, quiet);
      return;
    }
    bar?.update(examples);
    bar?.stop();
  };
}

/** Initialises the backend and regenerates the examples a report's grid shows. */
export async function regenerateFromFile(report: Report, file: string, o: ImageCliOptions, filter?: GridFilter): Promise<ReportExamples> {
  const backend = await initBackend(o.backend);
  const quiet = o.quiet === true;
  logLine(quiet, `advtest: regenerating adversarial examples of ${file} on ${backend.name}`);
  return examplesOfReportFile(report, file, {
    ...(o.model !== undefined ? { model: o.model } : {}),
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    count: parsePositiveInt(o.examples, '--examples'),
    backend: backend.name,
    onPhase: phaseProgress(quiet),
    ...(filter ? { filter } : {}),
  });
}

/** The file as a certify report when it is one (else undefined: readReport judges it). */
async function readCertifyReport(file: string): Promise<CertifyReport | undefined> {
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { format?: unknown; summary?: { curve?: unknown } } | null;
    if (json?.format !== CERTIFY_FORMAT) return undefined;
    if (!Array.isArray(json.summary?.curve)) throw new UserError(`${file} is an incomplete advtest certify report (no summary.curve): write it again with advtest certify --json`);
    return json as unknown as CertifyReport;
  } catch (err) {
    if (err instanceof UserError) throw err;
    return undefined;
  }
}

/** report.json → report.html (or another extension), next to it. */
export function besideInput(file: string, suffix: string): string {
  const parsed = path.parse(file);
  return path.join(parsed.dir, `${parsed.name}${suffix}`);
}

interface ReportOptions extends ImageCliOptions {
  out?: string;
  md?: boolean;
  images: boolean;
}

export function reportCommand(): Command {
  const cmd = new Command('report')
    .description('a self-contained HTML report of an evaluation (curves, tables, image grid), or its tables as Markdown')
    .argument('<result>', 'the JSON report written by advtest eval --json (or advtest certify --json: its certified-vs-attacked page)')
    .option('--out <file>', 'where the HTML goes (default: the result file with .html)')
    .option('--md', 'print the tables as GitHub-flavoured Markdown on stdout (HTML only with --out)')
    .option('--no-images', 'leave out the image grid (no model or data needed)');
  return withGridFilterOptions(withImageOptions(cmd)).action(async (file: string, opts: ReportOptions) => {
    const quiet = opts.quiet === true;
    const certified = await readCertifyReport(file);
    if (certified) {
      if (opts.md) throw new UserError(`--md: ${file} is an advtest certify report, which has no Markdown view: leave out --md to write its HTML page`);
      const out = opts.out ?? besideInput(file, '.html');
      await checkOutputFile(out, '--out');
      const html = await renderCertifyHtml(certified);
      await writeFileSafely(out, html);
      logLine(quiet, `advtest: wrote ${out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} kB)`);
      return;
    }
    const report = await readReport(file);
    const filter = parseGridFilter(opts, gridChoices(report));
    if (!opts.images && Object.keys(filter).length > 0) throw new UserError('--attack, --eps, --fooled, --robust and --classes choose the images of the grid: leave out --no-images, or leave them out');
    if (opts.md) process.stdout.write(renderMarkdown({ report }));
    if (opts.md && opts.out === undefined) return;
    const out = opts.out ?? besideInput(file, '.html');
    // Before regenerating the images: an impossible --out must not fail the run at its end.
    await checkOutputFile(out, '--out');
    await checkRunPaths({ models: [opts.model], folders: [opts.dataDir], files: [file], outputs: [{ option: '--out', path: out }] });
    let images: ReportExamples | undefined;
    if (opts.images) images = await regenerateFromFile(report, file, opts, filter);
    const html = await buildHtml(
      { report },
      images ? { examples: images.examples, classNames: images.classNames, notes: images.notes } : { notes: ['Images left out (--no-images).'] },
    );
    await writeFileSafely(out, html);
    logLine(quiet, `advtest: wrote ${out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} kB)`);
  });
}
