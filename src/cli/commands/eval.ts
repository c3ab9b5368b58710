import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { UserError } from '../../errors.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { withTransformSpec } from '../../../defenses/input-transforms.js';
import { loadClassifier, modelCliOptions, withModelOptions, type ModelCliOptions } from '../model-options.js';
import { attacksFrom, withAttackOptions, type AttackCliOptions } from '../attack-options.js';
import { setup, withCommonOptions, type CommonOptions, type EvaluationCliOptions, withEvaluationOptions } from '../common.js';
import { parseEpsList, parsePositiveInt, parseShard } from '../parse.js';
import { runEvaluation } from '../run-eval.js';
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
}

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('clean and adversarial accuracy of a model on a test split, per attack and ε')
    .option('--workers <n>', 'worker threads sharing the batches (results are identical for any n)', String(availableParallelism()))
    .option('--shard <i/n>', 'evaluate only slice i of n (combine the reports with advtest merge)')
    .option('--json [file]', 'write the report as JSON to file (no file: JSON on stdout)')
    .option('--html <file>', 'also write a self-contained HTML report: curves, tables, image grid')
    .option('--md', 'print the tables as GitHub-flavoured Markdown instead of the terminal table')
    .option('--wide', 'every column in the terminal table (max L∞ and L2, mean L∞); by default it fits 100 columns');
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
    const epsilons = parseEpsList(opts.eps);
    const { attacks, mode } = attacksFrom(opts);
    const loaded = await loadClassifier(opts);
    const model = opts.transform ? withTransformSpec(loaded, opts.transform, seed) : loaded;
    try {
      await runEvaluation({
        model,
        data: opts.data,
        dataDir: opts.dataDir,
        split: opts.split,
        attacks,
        mode,
        epsilons,
        limit: opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, '--limit'),
        seed,
        batchSize: parseBatchSize(opts.batchSize, model.inputShape, EVAL_MAX_BATCH_SIZE),
        target: parseTargetSpec(opts.targeted, model.numClasses),
        quiet,
        json: opts.json,
        ...(opts.html !== undefined ? { html: opts.html } : {}),
        ...(opts.md ? { md: true } : {}),
        ...(opts.wide ? { wide: true } : {}),
        ...(opts.shard ? { shard: parseShard(opts.shard) } : {}),
        workers: {
          count: parsePositiveInt(opts.workers, '--workers'),
          request: {
            backend: opts.backend,
            // All model options, preprocessing and labels included: a worker must load the same classifier.
            model: modelCliOptions(opts),
            ...(opts.transform ? { transform: opts.transform } : {}),
            data: opts.data,
            ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
            split: opts.split,
            ...(opts.limit !== undefined ? { limit: parsePositiveInt(opts.limit, '--limit') } : {}),
            attack: { attack: opts.attack, steps: opts.steps, stepSize: opts.stepSize, restarts: opts.restarts, norm: opts.norm, loss: opts.loss, mode: opts.mode, bpda: opts.bpda, eot: opts.eot },
            ...(opts.targeted ? { targeted: opts.targeted } : {}),
            seed,
          },
        },
      });
    } finally {
      model.dispose?.();
    }
  });
}
