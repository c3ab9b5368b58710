import { rm } from 'node:fs/promises';
import { Command } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { eot } from '../../../attacks/adaptive.js';
import { makeAttack } from '../../../attacks/index.js';
import { renderCertifyHtml } from '../../certify/html.js';
import { renderCertifyText } from '../../certify/render.js';
import { certifyDataset, DEFAULT_SAMPLE_BATCH } from '../../certify/run.js';
import { loadEvaluationData } from '../../data/index.js';
import { UserError } from '../../errors.js';
import { writeFileSafely } from '../../report/write-file.js';
import { setup, withCommonOptions, withModelOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { loadClassifier, type ModelCliOptions } from '../../run/model-options.js';
import { checkOutputFile } from '../output-path.js';
import { parseEpsList, parsePositiveInt, parsePositiveNumber, parseShard } from '../../parse.js';
import { progressBar } from '../../run/progress.js';

interface CertifyCliOptions extends CommonOptions, ModelCliOptions, Pick<EvaluationCliOptions, 'data' | 'dataDir' | 'split' | 'limit' | 'batchSize'> {
  sigma: string;
  n0: string;
  n: string;
  alpha: string;
  radii: string;
  predict?: boolean;
  empirical?: boolean | string;
  steps: string;
  eot: string;
  samples: string;
  empiricalVotes: string;
  shard?: string;
  json?: boolean | string;
  html?: string;
}

export function certifyCommand(): Command {
  const cmd = new Command('certify')
    .description('certified L2 robustness by randomized smoothing (Cohen et al. 2019): CERTIFY per example, certified accuracy per radius')
    .option('--sigma <σ>', 'standard deviation of the smoothing noise (the σ the model was trained with)', '0.25')
    .option('--n0 <n>', 'noisy samples that select the class', '100')
    .option('--n <n>', 'noisy samples that estimate its probability', '10000')
    .option('--alpha <α>', 'probability that a certificate is wrong', '0.001')
    .option('--data <spec>', 'mnist | fashion-mnist | folder:PATH', 'mnist')
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files')
    .option('--split <name>', 'test | train', 'test')
    .option('--limit <n>', 'a fixed class-balanced subset of n examples of the split')
    .option('--radii <list>', 'L2 radii of the certified-accuracy curve', '0,0.25,0.5,0.75,1')
    .option('--batch-size <n>', `noisy copies per forward pass (results do not depend on it)`, String(DEFAULT_SAMPLE_BATCH))
    .option('--predict', "also run PREDICT (n samples, two-sided binomial test at α) on each example")
    .option('--empirical [attack]', 'also attack the smoothed classifier at each radius (L2, with EOT): the empirical upper bound next to the certified lower bound (default pgd)')
    .option('--steps <n>', 'steps of the empirical attack', '20')
    .option('--eot <n>', 'EOT draws per gradient of the empirical attack', '4')
    .option('--samples <m>', 'noise draws per soft-logit evaluation of the smoothed classifier', '8')
    .option('--empirical-votes <n>', 'noisy votes that judge the smoothed prediction on an attacked image', '1000')
    .option('--shard <i/n>', 'certify only slice i of n of the examples (combine with advtest merge)')
    .option('--json [file]', 'write the report as JSON to file (journaled: a killed run resumes); no file: JSON on stdout')
    .option('--html <file>', 'also write a self-contained HTML page: the certified and attacked curves on one chart, abstentions, cost, sanity');
  return withCommonOptions(withModelOptions(cmd)).action(async (opts: CertifyCliOptions) => {
    const { seed, quiet } = await setup(opts);
    const sigma = parsePositiveNumber(opts.sigma, '--sigma');
    const alpha = parsePositiveNumber(opts.alpha, '--alpha');
    if (!(alpha < 0.5)) throw new UserError(`--alpha ${opts.alpha} must be below 0.5: the probability that a certificate is wrong, e.g. --alpha 0.001`);
    if (opts.split !== 'test' && opts.split !== 'train') throw new UserError(`--split "${opts.split}": use test or train`);
    const radii = parseEpsList(opts.radii, '--radii');
    const empiricalName = opts.empirical === undefined ? undefined : typeof opts.empirical === 'string' ? opts.empirical : 'pgd';
    const attack = empiricalName === undefined ? undefined : eot(makeAttack(empiricalName, { norm: 'l2', steps: parsePositiveInt(opts.steps, '--steps') }), parsePositiveInt(opts.eot, '--eot'));
    if (typeof opts.json === 'string') await checkOutputFile(opts.json, '--json');
    if (opts.html !== undefined) await checkOutputFile(opts.html, '--html');
    const model = await loadClassifier(opts);
    try {
      const limit = opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, '--limit');
      const { data, subset } = await loadEvaluationData(opts.data, { split: opts.split, shape: model.inputShape, dataDir: opts.dataDir, limit });
      const bar = progressBar('certifying', data.size, quiet, ' | {phase}');
      const journal = typeof opts.json === 'string' ? `${opts.json}.journal` : undefined;
      const report = await certifyDataset(model, data, {
        sigma,
        n0: parsePositiveInt(opts.n0, '--n0'),
        n: parsePositiveInt(opts.n, '--n'),
        alpha,
        batchSize: parsePositiveInt(opts.batchSize, '--batch-size'),
        radii,
        predict: opts.predict === true,
        seed,
        ...(subset ? { subset } : {}),
        ...(opts.shard ? { shard: parseShard(opts.shard) } : {}),
        ...(journal ? { journal } : {}),
        ...(attack
          ? {
              empirical: {
                attack,
                samples: parsePositiveInt(opts.samples, '--samples'),
                votes: parsePositiveInt(opts.empiricalVotes, '--empirical-votes'),
                ...(journal ? { journal: `${opts.json as string}.empirical.journal` } : {}),
              },
            }
          : {}),
        onProgress: (p) => bar.update(p.done, { phase: p.phase }),
      }).finally(() => bar.stop());
      const json = JSON.stringify(report, null, 2) + '\n';
      if (typeof opts.json === 'string') {
        await writeFileAtomic(opts.json, json);
        await rm(`${opts.json}.journal`, { force: true });
        await rm(`${opts.json}.empirical.journal`, { force: true });
      }
      if (opts.html !== undefined) await writeFileSafely(opts.html, await renderCertifyHtml(report));
      process.stdout.write(opts.json === true ? json : renderCertifyText(report) + '\n');
    } finally {
      model.dispose?.();
    }
  });
}
