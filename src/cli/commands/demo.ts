import path from 'node:path';
import { Command } from 'commander';
import { fgsm } from '../../../attacks/index.js';
import { balancedSubset } from '../../data/dataset.js';
import { loadDataset } from '../../data/index.js';
import { attackImages } from '../../harness/attack-images.js';
import { loadModel } from '../../model/store.js';
import { fixtureModelPath } from '../../package-info.js';
import { formatEps } from '../../report/text.js';
import { setup, withCommonOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { parseEps, parseEpsList, parsePositiveInt } from '../../parse.js';
import { logLine } from '../../run/progress.js';
import { runEvaluation } from '../../run/evaluation.js';
import { printEvaluation } from './eval.js';
import { checkOutputFile } from '../output-path.js';
import { runTraining } from '../../run/train.js';

interface DemoOptions extends CommonOptions, Pick<EvaluationCliOptions, 'eps' | 'limit'> {
  train?: boolean;
  epochs: string;
  imageEps: string;
  out: string;
  json?: boolean | string;
}

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('the main job on the embedded data: the fixture mnist-cnn under FGSM on the mnist test split, with adversarial PNGs')
    .option('--train', 'train a fresh mnist-cnn on the mnist training split instead of using the fixture')
    .option('--epochs <n>', 'epochs for --train', '3')
    .option('--eps <list>', 'FGSM budgets', '0.05,0.1,0.2,0.3')
    .option('--image-eps <value>', 'budget for the PNGs written', '0.2')
    .option('--limit <n>', 'a fixed class-balanced subset of n test examples')
    .option('--out <dir>', 'where images (and a trained model) go', 'out/demo')
    .option('--json [file]', 'write the report as JSON to file (no file: JSON on stdout)');
  return withCommonOptions(cmd).action(async (opts: DemoOptions) => {
    const started = Date.now();
    const { seed, quiet, backend } = await setup(opts);
    const epsilons = parseEpsList(opts.eps);
    const imageEps = parseEps(opts.imageEps, '--image-eps');
    let modelDir = fixtureModelPath('mnist-cnn');
    if (opts.train) {
      modelDir = path.join(opts.out, 'model');
      await runTraining({ arch: 'mnist-cnn', data: 'mnist', epochs: parsePositiveInt(opts.epochs, '--epochs'), batchSize: 64, lr: 1e-3, optimizer: 'adam', out: modelDir, seed, quiet });
    }
    logLine(quiet, `advtest demo: model ${modelDir}, backend ${backend.name}`);
    const model = await loadModel(modelDir);
    try {
      if (typeof opts.json === 'string') await checkOutputFile(opts.json, '--json');
      const limit = opts.limit === undefined ? {} : { limit: parsePositiveInt(opts.limit, '--limit') };
      const { report, json } = await runEvaluation({
        model,
        request: { backend: opts.backend, model: { model: modelDir }, data: 'mnist', ...limit, attack: { attack: 'fgsm' }, seed },
        attacks: [fgsm()],
        epsilons,
        batchSize: 128,
        target: 'untargeted',
        quiet,
        json: opts.json,
      });
      printEvaluation(report, json, { json: opts.json });
      const test = await loadDataset('mnist', { split: 'test' });
      const sample = balancedSubset(test, 10);
      const pixels = sample.images.length / sample.size;
      const imagesDir = path.join(opts.out, 'images');
      const manifest = await attackImages(
        model,
        sample.ids.map((id, i) => ({ source: `${id.replaceAll('/', '-')}-label${sample.labels[i]}`, pixels: sample.images.slice(i * pixels, (i + 1) * pixels), label: sample.labels[i]! })),
        { attack: fgsm(), eps: imageEps, outDir: imagesDir, seed },
      );
      const { images, attacked: written, fooled, misclassified: wrong } = manifest.summary[0]!;
      // Digits the model already gets wrong are not attacked (no PNG): say so, or the count looks short.
      logLine(quiet, `wrote ${written} adversarial PNGs (FGSM ε=${formatEps(imageEps)}, ${fooled} fooled${wrong ? `; ${wrong} of the ${images} digits misclassified before the attack, not attacked` : ''}) to ${imagesDir}; demo took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      model.dispose?.();
    }
  });
}
