import { createHash } from 'node:crypto';
import { open, readdir, rm } from 'node:fs/promises';
import { checkModelDestination } from '../../model/fs-io.js';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import { Command, Option } from 'commander';
import type * as tf from '@tensorflow/tfjs';
import { makeAttack } from '../../../attacks/index.js';
import { composeDefenses, type Defense } from '../../../defenses/defense.js';
import { makeDefenses, DEFENSE_REGISTRY, type DefenseEnv } from '../../../defenses/registry.js';
import { parseDefenseSpecs, type DefenseSpec } from '../../../defenses/spec.js';
import { loadDataset } from '../../data/index.js';
import { UserError } from '../../errors.js';
import { ARCHITECTURES, buildArchitecture } from '../../model/architectures.js';
import { layersClassifier } from '../../model/classifier.js';
import { loadModel, saveModel } from '../../model/store.js';
import { trainModel, type EpochProgress, type TrainOptions, type TrainSummary } from '../../train/loop.js';
import { holdOut, type MonitorOptions } from '../../train/monitor.js';
import { OPTIMIZERS, type OptimizerName } from '../../train/optimizers.js';
import { SCHEDULES, type ScheduleName } from '../../train/schedule.js';
import type { Classifier, Dataset } from '../../types.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { parseEps, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber, parseStepSize } from '../parse.js';
import { logLine, progressBar } from '../progress.js';
import { checkRunPaths } from '../output-path.js';
import { writeFailure } from '../../report/write-file.js';

interface TrainCliOptions extends CommonOptions {
  arch: string;
  data: string;
  dataDir?: string;
  epochs: string;
  batchSize: string;
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

/** Adversarial training and the robustness monitor (all optional: standard training without them). */
export interface RobustTrainingJob {
  /** --defense, e.g. "fgsm-at,augment=crop,clip-global=1"; "none" or absent: standard training. */
  defense?: string;
  trainAttack?: string;
  trainEps?: number;
  trainSteps?: number;
  /** --train-step-size as parsed: absolute or relative to ε. */
  trainStepSize?: { absStepsize: number } | { relStepsize: number };
  /** Epochs over which the training ε grows linearly to --train-eps. */
  trainEpsRamp?: number;
  clipLayers?: string[];
  teacher?: string;
  schedule?: ScheduleName;
  /** Training examples held out for the per-epoch PGD accuracy (0: no monitor). */
  holdout?: number;
  monitorSteps?: number;
  /** Stop when the held-out PGD accuracy falls by more than this (0..1). */
  earlyStop?: number;
}

export interface TrainJob extends RobustTrainingJob {
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

/** ε of adversarial training and of the monitor when --train-eps is not given (digits in [0, 1]). */
export const DEFAULT_TRAIN_EPS = 0.1;
/** Held-out examples for the monitor when a defense is given and --holdout is not. */
export const DEFAULT_HOLDOUT = 200;

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function epochLine(p: EpochProgress, monitorName: string, eps: number): string {
  const held = p.heldOut ? `, held-out clean ${pct(p.heldOut.clean)}, ${monitorName} ε=${eps} ${pct(p.heldOut.robust)} (n=${p.heldOut.n})` : '';
  return `epoch ${p.epoch + 1}/${p.epochs}: loss ${p.loss.toFixed(4)}, train acc ${pct(p.accuracy)}${held}${p.stopped ? ` — stopping: ${p.stopped}` : ''}`;
}

/** The defenses of the job against `model`; distill's teacher must already be in env. */
function defensesFor(specs: DefenseSpec[], job: TrainJob, model: tf.LayersModel, teacher?: Classifier): Defense[] {
  const eps = job.trainEps ?? DEFAULT_TRAIN_EPS;
  const env: DefenseEnv = { eps, model, ...(job.clipLayers ? { layers: job.clipLayers } : {}), ...(teacher ? { teacher } : {}) };
  const adversarial = specs.some((s) => ['fgsm-at', 'fast-fgsm', 'pgd-at', 'trades'].includes(s.name));
  if (!adversarial && (job.trainAttack !== undefined || job.trainSteps !== undefined || job.trainStepSize || job.trainEpsRamp !== undefined)) {
    throw new UserError('--train-attack, --train-steps, --train-step-size and --train-eps-ramp set the attack of adversarial training: add fgsm-at, fast-fgsm, pgd-at or trades to --defense');
  }
  if (job.trainEpsRamp !== undefined) env.ramp = job.trainEpsRamp;
  const steps = job.trainSteps !== undefined ? { steps: job.trainSteps } : {};
  if (job.trainAttack !== undefined) {
    // The registry refuses options that do not apply (steps for fgsm, say).
    env.attack = makeAttack(job.trainAttack, { ...steps, ...(job.trainStepSize ?? {}) });
  }
  if (job.trainSteps !== undefined) env.steps = job.trainSteps;
  if (job.trainStepSize) env.stepSize = 'absStepsize' in job.trainStepSize ? job.trainStepSize.absStepsize : job.trainStepSize.relStepsize * eps;
  return makeDefenses(specs, env);
}

/** Where a run's checkpoints live until its model is saved. */
function checkpointDir(job: TrainJob, label: string): string {
  return path.join(`${path.resolve(job.out)}.checkpoint`, label);
}

/** The same command (all but --quiet and --out) resumes the same checkpoint; anything else starts afresh. */
function checkpointKey(job: TrainJob, label: string): string {
  const { quiet: _q, out: _o, ...rest } = job;
  void _q;
  void _o;
  return createHash('sha256').update(stableStringify({ ...rest, label })).digest('hex');
}

async function fit(model: tf.LayersModel, data: Dataset, job: TrainJob, defenses: Defense[], monitor: MonitorOptions | undefined, label: string): Promise<TrainSummary> {
  const steps = Math.ceil(data.size / job.batchSize) * job.epochs;
  const bar = progressBar(label, steps, job.quiet, ' | loss {loss} | acc {acc} | lr {lr} | {monitor}');
  let done = 0;
  let lastMonitor = monitor ? `${monitor.attack.name} —` : '';
  const eps = job.trainEps ?? DEFAULT_TRAIN_EPS;
  const options: TrainOptions = {
    epochs: job.epochs,
    batchSize: job.batchSize,
    learningRate: job.lr,
    optimizer: job.optimizer,
    schedule: job.schedule ?? 'constant',
    seed: job.seed,
    hooks: composeDefenses(defenses),
    onStep: (p) => bar.update(++done, { loss: p.loss.toFixed(3), acc: pct(p.accuracy), lr: p.learningRate.toPrecision(2), monitor: lastMonitor }),
    onEpoch: (p) => {
      if (p.heldOut) lastMonitor = `${monitor!.attack.name} ${pct(p.heldOut.robust)}`;
      bar.update(done, { monitor: lastMonitor });
      // Above the bar, so each epoch's held-out figures stay visible.
      logLine(job.quiet, `${label === 'teacher' ? 'teacher ' : ''}${epochLine(p, monitor?.attack.name ?? '', eps)}`);
    },
    ...(monitor ? { monitor } : {}),
    ...(monitor && job.earlyStop !== undefined ? { earlyStop: { drop: job.earlyStop } } : {}),
    // Every epoch is checkpointed next to the output; re-running the same command resumes.
    checkpoint: { dir: checkpointDir(job, label), key: checkpointKey(job, label) },
  };
  try {
    return await trainModel(model, data, options);
  } finally {
    bar.stop();
  }
}

/**
 * Training of a built-in architecture, saved as a LayersModel folder: standard, or with the
 * defenses of --defense composed, and with a PGD monitor on held-out training examples.
 */
export async function runTraining(job: TrainJob): Promise<void> {
  await checkModelDestination(job.out);
  const full = await loadDataset(job.data, { split: 'train', dataDir: job.dataDir, shape: [28, 28, 1] });
  const holdoutCount = job.holdout ?? 0;
  if (job.earlyStop !== undefined && holdoutCount === 0) throw new UserError('--early-stop watches the held-out PGD accuracy: keep --holdout above 0');
  const { train: data, heldOut } = holdoutCount > 0 ? holdOut(full, holdoutCount, job.seed) : { train: full, heldOut: undefined };
  const eps = job.trainEps ?? DEFAULT_TRAIN_EPS;
  const monitorSteps = job.monitorSteps ?? 10;
  const monitor: MonitorOptions | undefined = heldOut ? { data: heldOut, attack: makeAttack('pgd', { steps: monitorSteps }), eps } : undefined;
  const specs = parseDefenseSpecs(job.defense ?? 'none');
  const distillSpec = specs.find((s) => s.name === 'distill');
  let teacher: Classifier | undefined;
  const teacherInfo: Record<string, unknown> = {};
  const model = buildArchitecture(job.arch, data.shape, data.numClasses, job.seed);
  try {
    if (distillSpec && job.teacher) {
      teacher = await loadModel(job.teacher);
      teacherInfo.teacher = job.teacher;
    } else if (distillSpec) {
      // Papernot et al.'s recipe in one run: the teacher (same architecture, other defenses
      // kept) trained at temperature T, then the student on its probabilities at T.
      const teacherSpecs = specs.map((s) => (s === distillSpec ? { ...s, name: 'temperature', text: `temperature=${s.value ?? ''}` } : s));
      const teacherModel = buildArchitecture(job.arch, data.shape, data.numClasses, job.seed + 1);
      logLine(job.quiet, `defensive distillation: training the teacher at ${teacherSpecs.find((s) => s.name === 'temperature')!.text} first`);
      await fit(teacherModel, data, job, defensesFor(teacherSpecs, job, teacherModel), monitor, 'teacher');
      teacher = layersClassifier(teacherModel, { owned: true });
      teacherInfo.teacher = `trained in this run at temperature ${distillSpec.value ?? ''}`;
    }
    const defenses = defensesFor(specs, job, model, teacher);
    const summary = await fit(model, data, job, defenses, monitor, 'training');
    const defenseName = defenses.length > 0 ? defenses.map((d) => d.name).join(',') : 'none';
    await saveModel(model, job.out, {
      arch: job.arch,
      bounds: { lower: 0, upper: 1 },
      classNames: data.classNames,
      data: `${data.name}/${data.split}`,
      training: {
        epochs: job.epochs,
        batchSize: job.batchSize,
        lr: job.lr,
        optimizer: job.optimizer,
        schedule: job.schedule ?? 'constant',
        seed: job.seed,
        defense: defenseName,
        ...(defenses.length > 0 ? { defenses: Object.fromEntries(defenses.map((d) => [d.name, d.describe?.() ?? {}])) } : {}),
        ...teacherInfo,
        ...(heldOut ? { heldOut: { examples: heldOut.size, attack: monitor!.attack.name, eps, history: summary.history.map((h) => ({ epoch: h.epoch + 1, ...h.heldOut })) } } : {}),
        ...(summary.stoppedEarly ? { stoppedEarly: { ...summary.stoppedEarly, epoch: summary.stoppedEarly.epoch + 1, restoredEpoch: summary.stoppedEarly.restoredEpoch + 1 } } : {}),
      },
    });
    // The model is safely saved: its checkpoints (and the teacher's) are no longer needed.
    await rm(`${path.resolve(job.out)}.checkpoint`, { recursive: true, force: true });
    const stopped = summary.stoppedEarly ? `; stopped early after epoch ${summary.stoppedEarly.epoch + 1}, weights of epoch ${summary.stoppedEarly.restoredEpoch + 1} kept` : '';
    logLine(job.quiet, `trained ${job.arch} (${defenseName === 'none' ? 'standard training' : defenseName}) on ${data.size} ${data.name} examples in ${summary.seconds.toFixed(1)} s (last-epoch train accuracy ${pct(summary.trainAccuracy)}${stopped}) → ${job.out}`);
  } finally {
    model.dispose();
    teacher?.dispose?.();
  }
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
  const defenseNames = Object.values(DEFENSE_REGISTRY).map((e) => e.syntax).join(' | ');
  const cmd = new Command('train')
    .description('train a built-in architecture, standard or with defenses, and save it as a TF.js LayersModel')
    .option('--arch <name>', `architecture: ${ARCHITECTURES.join(' | ')} | template-<depth>x<width>`, 'mnist-cnn')
    .option('--data <spec>', 'mnist | fashion-mnist', 'mnist')
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files')
    .option('--epochs <n>', 'passes over the training split', '5')
    .option('--batch-size <n>', 'examples per step', '64')
    .option('--lr <x>', 'learning rate (the peak of one-cycle)', '0.001')
    .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZERS]).default('adam'))
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices([...SCHEDULES]).default('constant'))
    .option('--defense <specs>', `comma-separated defenses: ${defenseNames}`, 'none')
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
