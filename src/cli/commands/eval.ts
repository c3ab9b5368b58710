import { Command } from 'commander';
import { makeAttacks } from '../../../attacks/index.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { loadModel } from '../../model/store.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { parseEpsList, parsePositiveInt } from '../parse.js';
import { runEvaluation } from '../run-eval.js';

interface EvalOptions extends CommonOptions {
  model: string;
  data: string;
  dataDir?: string;
  attack: string;
  eps: string;
  limit?: string;
  batchSize: string;
  targeted?: string;
  json?: boolean | string;
}

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('clean and adversarial accuracy of a model on a test split, per attack and ε')
    .requiredOption('--model <dir>', 'folder with model.json and weights')
    .option('--data <spec>', 'mnist | fashion-mnist | folder:PATH', 'mnist')
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files')
    .option('--attack <names>', 'comma-separated attacks', 'fgsm')
    .option('--eps <list>', 'budgets, e.g. 0.1,0.2,0.3 or 8/255', '0.1,0.2,0.3')
    .option('--limit <n>', 'a fixed class-balanced subset of n test examples')
    .option('--batch-size <n>', 'examples per batch', '128')
    .option('--targeted <spec>', 'least-likely | random | a class index')
    .option('--json [file]', 'write the report as JSON to file (no file: JSON on stdout)');
  return withCommonOptions(cmd).action(async (opts: EvalOptions) => {
    const { seed, quiet } = await setup(opts);
    const epsilons = parseEpsList(opts.eps);
    const attacks = makeAttacks(opts.attack);
    const model = await loadModel(opts.model);
    try {
      await runEvaluation({
        model,
        data: opts.data,
        dataDir: opts.dataDir,
        attacks,
        epsilons,
        limit: opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, '--limit'),
        seed,
        batchSize: parsePositiveInt(opts.batchSize, '--batch-size'),
        target: parseTargetSpec(opts.targeted, model.numClasses),
        quiet,
        json: opts.json,
      });
    } finally {
      model.dispose?.();
    }
  });
}
