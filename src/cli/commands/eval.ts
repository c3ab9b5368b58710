import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { resolveWorkers } from '../../backend/select.js';
import { UserError } from '../../errors.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { withTransformSpec } from '../../../defenses/input-transforms.js';
import { loadClassifier, modelCliOptions, type ModelCliOptions } from '../../run/model-options.js';
import { attacksFrom, type AttackCliOptions } from '../../run/attack-options.js';
import { setup, withAttackOptions, withCommonOptions, withEvaluationOptions, withModelOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { parsePositiveInt, parseShard } from '../../parse.js';
import { runEvaluation } from '../run-eval.js';
import { transferAttacks } from '../../run/transfer.js';
import { patchEpsilons } from '../../../attacks/index.js';
import { parseGridFilter } from '../../report/grid-filter.js';
import { parseTraceOption } from '../../harness/trace-option.js';
import { parseBatchSize } from '../../harness/batch-size.js';

/** The batch size eval always used for 28×28 digits, and the most `auto` picks. */
const EVAL_MAX_BATCH_SIZE = 128;
import { checkRunPaths } from '../output-path.js';

interface EvalOptions extends CommonOptions, AttackCliOptions, ModelCliOptions, EvaluationCliOptions {
  shard?: string;
  workers: string;
  json?: boolean | string;
  html?: string;
  md?: boolean;
  wide?: boolean;
  fitSize?: string;
  patchSize?: string;
  gridAttack?: string;
  gridEps?: string;
  gridFooled?: boolean;
  gridRobust?: boolean;
  gridClasses?: string;
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
    const { seed, quiet } = await setup(opts);
    const epsilons = patchEpsilons(opts.patchSize, opts.eps, full.getOptionValueSource('eps') === 'cli', opts.attack);
    const { attacks, mode } = attacksFrom(opts);
    const loaded = await loadClassifier(opts);
    // Checked before the evaluation runs: a bad grid option must not fail it at its end.
    const gridInput = { attack: opts.gridAttack, eps: opts.gridEps, fooled: opts.gridFooled, robust: opts.gridRobust, classes: opts.gridClasses };
    const gridFilter = parseGridFilter(gridInput, { attacks: attacks.map((a) => a.name), epsilons, numClasses: loaded.numClasses, ...(loaded.classNames ? { classNames: loaded.classNames } : {}) }, 'grid-');
    if (opts.html === undefined && Object.keys(gridFilter).length > 0) {
      loaded.dispose?.();
      throw new UserError('--grid-attack, --grid-eps, --grid-fooled, --grid-robust and --grid-classes choose the images of the HTML report: add --html FILE');
    }
    const model = opts.transform ? withTransformSpec(loaded, opts.transform, seed) : loaded;
    const transfer = opts.sourceModel === undefined ? undefined : await transferAttacks(opts.sourceModel, model, attacks).catch((err: unknown) => {
      model.dispose?.();
      throw err;
    });
    try {
      await runEvaluation({
        model,
        data: opts.data,
        dataDir: opts.dataDir,
        split: opts.split,
        attacks: transfer ? transfer.attacks : attacks,
        ...(transfer ? { source: transfer.source } : {}),
        mode,
        epsilons,
        limit: opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, '--limit'),
        ...(opts.fitSize !== undefined ? { fitSize: parsePositiveInt(opts.fitSize, '--fit-size') } : {}),
        seed,
        batchSize: parseBatchSize(opts.batchSize, model.inputShape, EVAL_MAX_BATCH_SIZE),
        target: parseTargetSpec(opts.targeted, model.numClasses),
        quiet,
        json: opts.json,
        ...(opts.html !== undefined ? { html: opts.html } : {}),
        ...(Object.keys(gridFilter).length > 0 ? { gridFilter } : {}),
        ...(opts.trace !== undefined ? { trace: parseTraceOption(opts.trace) } : {}),
        ...(opts.md ? { md: true } : {}),
        ...(opts.wide ? { wide: true } : {}),
        ...(opts.shard ? { shard: parseShard(opts.shard) } : {}),
        workers: {
          count: await resolveWorkers(opts.workers),
          request: {
            backend: opts.backend,
            // All model options, preprocessing and labels included: a worker must load the same classifier.
            model: modelCliOptions(opts),
            ...(opts.transform ? { transform: opts.transform } : {}),
            data: opts.data,
            ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
            split: opts.split,
            ...(opts.limit !== undefined ? { limit: parsePositiveInt(opts.limit, '--limit') } : {}),
            attack: { attack: opts.attack, steps: opts.steps, stepSize: opts.stepSize, restarts: opts.restarts, norm: opts.norm, loss: opts.loss, mode: opts.mode, bpda: opts.bpda, eot: opts.eot, ...(opts.targets !== undefined ? { targets: opts.targets } : {}), ...(opts.placement !== undefined ? { placement: opts.placement } : {}), ...(opts.inputDiversity !== undefined ? { inputDiversity: opts.inputDiversity } : {}) },
            ...(opts.sourceModel !== undefined ? { sourceModel: opts.sourceModel } : {}),
            ...(opts.targeted ? { targeted: opts.targeted } : {}),
            seed,
          },
        },
      });
    } finally {
      model.dispose?.();
      transfer?.source.model.dispose?.();
    }
  });
}
