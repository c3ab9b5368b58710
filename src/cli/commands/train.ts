import { open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { defenseSyntax } from '../../../defenses/registry.js';
import { parseDefenseSpecs } from '../../../defenses/spec.js';
import { UserError } from '../../errors.js';
import { ARCHITECTURES } from '../../model/architectures.js';
import { checkModelDestination } from '../../model/fs-io.js';
import { parseEps, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber, parseStepSize } from '../../parse.js';
import { writeFailure } from '../../report/write-file.js';
import { DEFAULT_HOLDOUT, DEFAULT_TRAIN_EPS, runTraining } from '../../run/train.js';
import { OPTIMIZERS, type OptimizerName } from '../../train/optimizers.js';
import { SCHEDULES, type ScheduleName } from '../../train/schedule.js';
import { setup, withCommonOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { checkRunPaths } from '../output-path.js';

interface TrainCliOptions extends CommonOptions, Pick<EvaluationCliOptions, 'data' | 'dataDir' | 'batchSize'> {
  arch: string;
  examples?: string;
  epochs: string;
  lr: string;
  optimizer: OptimizerName;
  schedule: ScheduleName;
  defense: string;
  trainAttack?: string;
  trainEps: string;
  trainSteps?: string;
  trainStepSize?: string;
  trainEpsRamp?: string;
  clipLayers?: string;
  teacher?: string;
  holdout?: string;
  monitorSteps: string;
  earlyStop?: string | boolean;
  out: string;
  force?: boolean;
}

/**
 * Before training: --out must not silently replace a model (or anything else) already there, and
 * its folder must take a file now — a read-only or full disk is found before the first epoch,
 * not after it.
 */
async function checkTrainOutput(out: string, force: boolean): Promise<void> {
  const entries = await readdir(out).catch(() => undefined);
  if (entries !== undefined && entries.length > 0 && !force) {
    const what = entries.includes('model.json') ? 'a model' : `${entries.length} file${entries.length === 1 ? '' : 's'}`;
    throw new UserError(`--out ${out} already holds ${what}: pass --force to replace it, or choose another folder`);
  }
  await checkModelDestination(out);
  const probe = path.join(path.dirname(path.resolve(out)), `.advtest-write-test-${process.pid}`);
  try {
    const handle = await open(probe, 'wx');
    try {
      await handle.write('advtest\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw writeFailure(out, err, 'nothing was trained');
  } finally {
    await rm(probe, { force: true });
  }
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train a built-in architecture, standard or with defenses, and save it as a TF.js LayersModel')
    .option('--arch <name>', `architecture: ${ARCHITECTURES.join(' | ')} | template-<depth>x<width>`, 'mnist-cnn')
    .option('--data <spec>', 'mnist | fashion-mnist', 'mnist')
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files')
    .option('--examples <n>', 'train on a fixed class-balanced subset of n training examples, taken after --holdout (data-scaling studies; default all)')
    .option('--epochs <n>', 'passes over the training split', '5')
    .option('--batch-size <n>', 'examples per step', '64')
    .option('--lr <x>', 'learning rate (the peak of one-cycle)', '0.001')
    .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZERS]).default('adam'))
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices([...SCHEDULES]).default('constant'))
    .option('--defense <specs>', `comma-separated defenses: ${defenseSyntax('training')}`, 'none')
    .option('--train-attack <name>', 'a registered attack for fgsm-at / pgd-at (defaults: fgsm; PGD from a random start keeping the last iterate)')
    .option('--train-eps <x>', `ε (L∞) of adversarial training and of the held-out PGD monitor (default ${DEFAULT_TRAIN_EPS})`)
    .option('--train-steps <n>', 'steps of the training attack (pgd-at 7, trades 10)')
    .option('--train-step-size <x>', 'step of the training attack: absolute (0.01) or relative to ε (0.25x)')
    .option('--train-eps-ramp <epochs>', 'grow the training ε linearly from ε/epochs to ε over the first epochs (Gowal et al. 2018 warm-up)')
    .option('--clip-layers <names>', 'comma-separated layers for clip-*/max-norm items without @ (default all)')
    .option('--teacher <dir>', 'teacher model for distill=T (trained with --defense temperature=T); without it the teacher is trained first')
    .option('--holdout <n>', 'training examples held out for the per-epoch PGD accuracy (default 200 with --defense, 0 = none without)')
    .option('--monitor-steps <n>', 'steps of the held-out PGD', '10')
    .option('--early-stop [drop]', 'stop when the held-out PGD accuracy falls by more than drop (default 0.2) from one epoch to the next, keeping the previous epoch (Wong et al. 2020)')
    .requiredOption('--out <dir>', 'output model folder')
    .option('--force', 'replace the model (or other files) already in --out');
  return withCommonOptions(cmd).action(async (opts: TrainCliOptions) => {
    await checkRunPaths({ models: [opts.teacher], data: opts.data, folders: [opts.dataDir], outputs: [{ option: '--out', path: opts.out, folder: true }] });
    await checkTrainOutput(opts.out, opts.force === true);
    const { seed, quiet } = await setup(opts);
    await runTraining({
      arch: opts.arch,
      data: opts.data,
      dataDir: opts.dataDir,
      ...(opts.examples !== undefined ? { examples: parsePositiveInt(opts.examples, '--examples') } : {}),
      epochs: parsePositiveInt(opts.epochs, '--epochs'),
      batchSize: parsePositiveInt(opts.batchSize, '--batch-size'),
      lr: parsePositiveNumber(opts.lr, '--lr'),
      optimizer: opts.optimizer,
      schedule: opts.schedule,
      defense: opts.defense,
      ...(opts.trainAttack !== undefined ? { trainAttack: opts.trainAttack } : {}),
      ...(opts.trainEps !== undefined ? { trainEps: parseEps(opts.trainEps, '--train-eps') } : {}),
      ...(opts.trainSteps !== undefined ? { trainSteps: parsePositiveInt(opts.trainSteps, '--train-steps') } : {}),
      ...(opts.trainStepSize !== undefined ? { trainStepSize: parseStepSize(opts.trainStepSize) } : {}),
      ...(opts.trainEpsRamp !== undefined ? { trainEpsRamp: parsePositiveInt(opts.trainEpsRamp, '--train-eps-ramp') } : {}),
      ...(opts.clipLayers !== undefined ? { clipLayers: opts.clipLayers.split(',').map((s) => s.trim()).filter((s) => s.length > 0) } : {}),
      ...(opts.teacher !== undefined ? { teacher: opts.teacher } : {}),
      // Standard training keeps the whole split by default (the fixture model is made that way).
      holdout: opts.holdout !== undefined ? parseNonNegativeInt(opts.holdout, '--holdout') : parseDefenseSpecs(opts.defense).length > 0 ? DEFAULT_HOLDOUT : 0,
      monitorSteps: parsePositiveInt(opts.monitorSteps, '--monitor-steps'),
      ...(opts.earlyStop !== undefined ? { earlyStop: typeof opts.earlyStop === 'string' ? parseEps(opts.earlyStop, '--early-stop') : 0.2 } : {}),
      out: opts.out,
      seed,
      quiet,
    });
  });
}
