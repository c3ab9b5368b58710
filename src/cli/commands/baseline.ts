import { Command } from 'commander';
import { makeAttacks } from '../../../attacks/index.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { loadModel } from '../../model/store.js';
import { recordBaseline } from '../../regression/baseline.js';
import { renderText } from '../../report/text.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { checkEpsAgainstRange, parseEpsList, parsePositiveInt } from '../parse.js';
import { logLine, progressBar, type Progress } from '../progress.js';

interface BaselineOptions extends CommonOptions {
  model: string;
  data: string;
  dataDir?: string;
  attack: string;
  eps: string;
  limit?: string;
  batchSize: string;
  targeted?: string;
  out: string;
}

export function baselineCommand(): Command {
  // exitOverride: usage errors reach main() as CommanderError and exit with 2, not commander's 1.
  const cmd = new Command('baseline')
    .exitOverride()
    .description('record a model\'s robustness figures, per-example results and evaluation settings for `advtest check`')
    .requiredOption('--model <dir>', 'folder with model.json and weights')
    .option('--data <spec>', 'mnist | fashion-mnist | folder:PATH', 'mnist')
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files')
    .option('--attack <names>', 'comma-separated attacks', 'fgsm')
    .option('--eps <list>', 'budgets, e.g. 0.1,0.2,0.3 or 8/255', '0.1,0.2,0.3')
    .option('--limit <n>', 'a fixed class-balanced subset of n test examples')
    .option('--batch-size <n>', 'examples per batch', '128')
    .option('--targeted <spec>', 'least-likely | random | a class index')
    .option('--out <file>', 'the baseline file to write', 'robustness.json');
  return withCommonOptions(cmd).action(async (opts: BaselineOptions) => {
    const { seed, quiet } = await setup(opts);
    const epsilons = parseEpsList(opts.eps);
    const attacks = makeAttacks(opts.attack);
    const limit = opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, '--limit');
    const batchSize = parsePositiveInt(opts.batchSize, '--batch-size');
    const model = await loadModel(opts.model);
    try {
      checkEpsAgainstRange(epsilons, model.bounds.upper - model.bounds.lower);
      // The number of examples is known only once the data is loaded: start the bar then.
      let bar: Progress | undefined;
      const { baseline, report } = await recordBaseline({
        model,
        modelDir: opts.model,
        data: opts.data,
        dataDir: opts.dataDir,
        attacks,
        epsilons,
        limit,
        seed,
        batchSize,
        target: parseTargetSpec(opts.targeted, model.numClasses),
        out: opts.out,
        onProgress: (p) => {
          bar ??= progressBar('evaluating', p.total, quiet);
          bar.update(p.done);
        },
      });
      bar?.stop();
      process.stdout.write(renderText(report) + '\n');
      const figures = 1 + baseline.figures.results.length + baseline.figures.worstCase.length;
      logLine(quiet, `baseline written to ${opts.out}: ${baseline.data.size} examples, ${figures} figures, config ${baseline.configHash.slice(0, 12)}`);
    } finally {
      model.dispose?.();
    }
  });
}
