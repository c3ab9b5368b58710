import { Command, Option } from 'commander';
import { loadDataset } from '../../data/index.js';
import { ARCHITECTURES, buildArchitecture } from '../../model/architectures.js';
import { saveModel } from '../../model/store.js';
import { trainModel } from '../../train/loop.js';
import { OPTIMIZERS, type OptimizerName } from '../../train/optimizers.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { parsePositiveInt, parsePositiveNumber } from '../parse.js';
import { logLine, progressBar } from '../progress.js';

interface TrainCliOptions extends CommonOptions {
  arch: string;
  data: string;
  dataDir?: string;
  epochs: string;
  batchSize: string;
  lr: string;
  optimizer: OptimizerName;
  out: string;
}

export interface TrainJob {
  arch: string;
  data: string;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  out: string;
  seed: number;
  quiet: boolean;
}

/** Standard training of a built-in architecture, saved as a LayersModel folder. */
export async function runTraining(job: TrainJob): Promise<void> {
  const data = await loadDataset(job.data, { split: 'train', dataDir: job.dataDir, shape: [28, 28, 1] });
  const model = buildArchitecture(job.arch, data.shape, data.numClasses, job.seed);
  const steps = Math.ceil(data.size / job.batchSize) * job.epochs;
  const bar = progressBar('training', steps, job.quiet, ' | loss {loss} | acc {acc}');
  let done = 0;
  try {
    const summary = await trainModel(model, data, {
      epochs: job.epochs,
      batchSize: job.batchSize,
      learningRate: job.lr,
      optimizer: job.optimizer,
      seed: job.seed,
      onStep: (p) => bar.update(++done, { loss: p.loss.toFixed(3), acc: (p.accuracy * 100).toFixed(1) + '%' }),
    });
    bar.stop();
    await saveModel(model, job.out, {
      arch: job.arch,
      bounds: { lower: 0, upper: 1 },
      classNames: data.classNames,
      data: `${data.name}/${data.split}`,
      training: { epochs: job.epochs, batchSize: job.batchSize, lr: job.lr, optimizer: job.optimizer, seed: job.seed, defense: 'none' },
    });
    logLine(job.quiet, `trained ${job.arch} on ${data.size} ${data.name} examples in ${summary.seconds.toFixed(1)} s (last-epoch train accuracy ${(summary.trainAccuracy * 100).toFixed(1)}%) → ${job.out}`);
  } finally {
    bar.stop();
    model.dispose();
  }
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train a built-in architecture (standard training) and save it as a TF.js LayersModel')
    .addOption(new Option('--arch <name>', 'architecture').choices([...ARCHITECTURES]).default('mnist-cnn'))
    .option('--data <spec>', 'mnist | fashion-mnist', 'mnist')
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files')
    .option('--epochs <n>', 'passes over the training split', '5')
    .option('--batch-size <n>', 'examples per step', '64')
    .option('--lr <x>', 'learning rate', '0.001')
    .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZERS]).default('adam'))
    .requiredOption('--out <dir>', 'output model folder');
  return withCommonOptions(cmd).action(async (opts: TrainCliOptions) => {
    const { seed, quiet } = await setup(opts);
    await runTraining({
      arch: opts.arch,
      data: opts.data,
      dataDir: opts.dataDir,
      epochs: parsePositiveInt(opts.epochs, '--epochs'),
      batchSize: parsePositiveInt(opts.batchSize, '--batch-size'),
      lr: parsePositiveNumber(opts.lr, '--lr'),
      optimizer: opts.optimizer,
      out: opts.out,
      seed,
      quiet,
    });
  });
}
