import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { resolveWorkers } from '../../backend/select.js';
import { UserError } from '../../errors.js';
import type { Report } from '../../harness/report-types.js';
import { modelCliOptions, type ModelCliOptions } from '../../run/model-options.js';
import { pickAttackOptions, type AttackCliOptions } from '../../run/attack-options.js';
import { materialize, type EvaluationRequest } from '../../run/requests.js';
import { runEvaluation } from '../../run/evaluation.js';
import { transferText } from '../../run/transfer.js';
import { setup, withAttackOptions, withCommonOptions, withEvaluationOptions, withModelOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { parsePositiveInt, parseShard } from '../../parse.js';
import { patchEpsilons } from '../../../attacks/index.js';
import { parseGridFilter, type GridFilterInput } from '../../report/grid-filter.js';
import { renderMarkdown } from '../../report/markdown.js';
import { renderText } from '../../report/text.js';
import { parseTraceOption } from '../../harness/trace-option.js';
import { parseBatchSize } from '../../harness/batch-size.js';
import { checkOutputFile, checkRunPaths } from '../output-path.js';
import { phaseProgress } from './report.js';

/** The batch size eval always used for 28×28 digits, and the most `auto` picks. */
const EVAL_MAX_BATCH_SIZE = 128;

/** --grid-attack, --grid-eps, …: the grid filter of advtest report under a grid- prefix. */
type GridCliOptions = { [K in keyof GridFilterInput as `grid${Capitalize<K>}`]: GridFilterInput[K] };

export interface EvalOptions extends CommonOptions, AttackCliOptions, ModelCliOptions, EvaluationCliOptions, GridCliOptions {
  shard?: string;
  workers: string;
  json?: boolean | string;
  html?: string;
  md?: boolean;
  wide?: boolean;
  fitSize?: string;
  patchSize?: string;
  trace?: string;
  sourceModel?: string;
}

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('clean and adversarial accuracy of a model on a test split, per attack and ε')
    .option('--workers <n>', 'worker threads sharing the batches: a number, or auto (as many as a start-up measurement finds worth it) (results are identical for any n)', String(availableParallelism()))
    .option('--shard <i/n>', 'evaluate only slice i of n (combine the reports with advtest merge)')
    .option('--json [file]', 'write the report as JSON to file (no file: JSON on stdout)')
    .option('--html <file>', 'also write a self-contained HTML report: curves, tables, image grid')
    .option('--md', 'print the tables as GitHub-flavoured Markdown instead of the terminal table')
    .option('--trace <positions>', 'record the loss and margin per iteration of these examples (0-based positions, at most 16) under the iterative attacks')
    .option('--grid-attack <name>', "with --html: the image grid shows only this attack's images")
    .option('--grid-eps <x>', 'with --html: the image grid shows only images at this ε')
    .option('--grid-fooled', 'with --html: the image grid shows only examples the attack fooled')
    .option('--grid-robust', 'with --html: the image grid shows only examples that held')
    .option('--grid-classes <a,b>', 'with --html: the image grid shows only examples of these true classes')
    .option('--wide', 'every column in the terminal table (max L∞ and L2, mean L∞); by default it fits 100 columns')
    .option('--fit-size <n>', 'uap, patch: training examples (class-balanced, training split) the perturbation is fitted on (default 300)')
    .option('--source-model <dir>', 'transfer: craft the adversarial examples on this model and judge them on --model (the report shows both)')
    .option('--patch-size <area>', 'patch: the patch area as a fraction of the image, e.g. 0.1 (its ε; replaces --eps)');
  const full = withCommonOptions(withAttackOptions(withEvaluationOptions(withModelOptions(cmd))));
  // eval sizes its batches from the input (photos need far smaller ones than digits).
  const batchOption = full.options.find((o) => o.long === '--batch-size');
  if (batchOption) batchOption.default('auto').description = 'examples per batch: auto (from the input size and the 4 GiB wasm heap; 128 for 28×28 images) or a number';
  full.setOptionValueWithSource('batchSize', 'auto', 'default');
  return full.action(async (opts: EvalOptions) => {
    if (opts.md && opts.json === true) throw new UserError('--md and a bare --json both print on stdout: give --json a file name');
    // An output that is also an input (eval --json m/model.json) or another output: refused before anything runs.
    await checkRunPaths({ models: [opts.model], data: opts.data, folders: [opts.dataDir], outputs: [{ option: '--json', path: opts.json }, { option: '--html', path: opts.html }] });
    // A path that cannot be written must not fail the run at its very end.
    if (typeof opts.json === 'string') await checkOutputFile(opts.json, '--json');
    if (opts.html !== undefined) await checkOutputFile(opts.html, '--html');
    const { seed, quiet } = await setup(opts);
    const epsilons = patchEpsilons(opts.patchSize, opts.eps, full.getOptionValueSource('eps') === 'cli', opts.attack);
    // The options parsed once into plain data, built once here; worker threads rebuild the same request.
    const request = evaluationRequest(opts, seed);
    const m = await materialize(request);
    try {
      // Checked before the evaluation runs: a bad grid option must not fail it at its end.
      const gridInput = { attack: opts.gridAttack, eps: opts.gridEps, fooled: opts.gridFooled, robust: opts.gridRobust, classes: opts.gridClasses };
      const gridFilter = parseGridFilter(gridInput, { attacks: m.attacks.map((a) => a.name), epsilons, numClasses: m.model.numClasses, ...(m.model.classNames ? { classNames: m.model.classNames } : {}) }, 'grid-');
      if (opts.html === undefined && Object.keys(gridFilter).length > 0) {
        throw new UserError('--grid-attack, --grid-eps, --grid-fooled, --grid-robust and --grid-classes choose the images of the HTML report: add --html FILE');
      }
      // The materialized model, data, attacks, mode, target and transfer source.
      const { report, json } = await runEvaluation({
        ...m,
        request,
        epsilons,
        ...(opts.fitSize !== undefined ? { fitSize: parsePositiveInt(opts.fitSize, '--fit-size') } : {}),
        batchSize: parseBatchSize(opts.batchSize, m.model.inputShape, EVAL_MAX_BATCH_SIZE),
        quiet,
        json: opts.json,
        ...(opts.html !== undefined ? { html: opts.html, onPhase: phaseProgress(quiet) } : {}),
        ...(Object.keys(gridFilter).length > 0 ? { gridFilter } : {}),
        ...(opts.trace !== undefined ? { trace: parseTraceOption(opts.trace) } : {}),
        ...(opts.shard ? { shard: parseShard(opts.shard) } : {}),
        workers: await resolveWorkers(opts.workers),
      });
      printEvaluation(report, json, { json: opts.json, md: opts.md, wide: opts.wide });
    } finally {
      m.model.dispose?.();
      m.source?.model.dispose?.();
    }
  });
}

/** The evaluation as plain data: what the command line asked for, as worker threads rebuild it. */
function evaluationRequest(opts: EvalOptions, seed: number): EvaluationRequest {
  return {
    backend: opts.backend,
    // All model options, preprocessing and labels included: a worker must load the same classifier.
    model: modelCliOptions(opts),
    ...(opts.transform ? { transform: opts.transform } : {}),
    data: opts.data,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    split: opts.split,
    ...(opts.limit !== undefined ? { limit: parsePositiveInt(opts.limit, '--limit') } : {}),
    attack: pickAttackOptions(opts),
    ...(opts.sourceModel !== undefined ? { sourceModel: opts.sourceModel } : {}),
    ...(opts.targeted ? { targeted: opts.targeted } : {}),
    seed,
  };
}

/** The report on stdout: JSON (bare --json), Markdown (--md) or the terminal table with the transfer lines. */
export function printEvaluation(report: Report, json: string, o: { json?: boolean | string; md?: boolean; wide?: boolean }): void {
  process.stdout.write(o.json === true ? json : o.md ? renderMarkdown({ report }) : renderText(report, { wide: o.wide === true }) + '\n' + transferText(report));
}
