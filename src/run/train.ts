import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import type * as tf from '@tensorflow/tfjs';
import { makeAttack } from '../../attacks/index.js';
import { composeDefenses, type Defense } from '../../defenses/defense.js';
import { makeDefenses, type DefenseEnv } from '../../defenses/registry.js';
import { parseDefenseSpecs, type DefenseSpec } from '../../defenses/spec.js';
import { balancedSubset } from '../data/dataset.js';
import { loadDataset } from '../data/index.js';
import { UserError } from '../errors.js';
import { buildArchitecture } from '../model/architectures.js';
import { layersClassifier } from '../model/classifier.js';
import { checkModelDestination } from '../model/fs-io.js';
import { loadModel, saveModel } from '../model/store.js';
import { pct } from '../number-format.js';
import { trainModel, type EpochProgress, type TrainOptions, type TrainSummary } from '../train/loop.js';
import { heldOutRecord, holdOut, type MonitorOptions } from '../train/monitor.js';
import type { OptimizerName } from '../train/optimizers.js';
import type { ScheduleName } from '../train/schedule.js';
import type { Classifier, Dataset } from '../types.js';
import { logLine, progressBar } from './progress.js';

/** Adversarial training and the robustness monitor (all optional: standard training without them). */
export interface RobustTrainingJob {
  /** Defenses, e.g. "fgsm-at,augment=crop,clip-global=1"; "none" or absent: standard training. */
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
  /**
   * Train on a fixed class-balanced subset of this many examples, taken after the held-out ones
   * are set aside (so every size is monitored on the same examples): data-scaling studies.
   */
  examples?: number;
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


/** How a training run's settings are named where they came from: command-line flags or bench config keys. */
export type SettingNames = 'flags' | 'config';

const NAMES = {
  flags: { attack: '--train-attack, --train-steps, --train-step-size and --train-eps-ramp', defense: '--defense' },
  config: { attack: 'trainAttack, trainSteps, trainStepSize and trainEpsRamp', defense: 'defense' },
};

/**
 * The defenses of a run against `model` (distill's teacher must be given). The training attack's
 * settings need a defense of the 'adversarial' stage to use them, else they are refused. Defenses
 * made here are the caller's to dispose.
 */
export function trainingDefenses(specs: DefenseSpec[], job: RobustTrainingJob, model: tf.LayersModel, teacher?: Classifier, names: SettingNames = 'flags'): Defense[] {
  const eps = job.trainEps ?? DEFAULT_TRAIN_EPS;
  const env: DefenseEnv = { eps, model, ...(job.clipLayers ? { layers: job.clipLayers } : {}), ...(teacher ? { teacher } : {}) };
  if (job.trainEpsRamp !== undefined) env.ramp = job.trainEpsRamp;
  const steps = job.trainSteps !== undefined ? { steps: job.trainSteps } : {};
  // The registry refuses options that do not apply (steps for fgsm, say).
  if (job.trainAttack !== undefined) env.attack = makeAttack(job.trainAttack, { ...steps, ...(job.trainStepSize ?? {}) });
  if (job.trainSteps !== undefined) env.steps = job.trainSteps;
  if (job.trainStepSize) env.stepSize = 'absStepsize' in job.trainStepSize ? job.trainStepSize.absStepsize : job.trainStepSize.relStepsize * eps;
  const defenses = makeDefenses(specs, env);
  const attackSettings = job.trainAttack !== undefined || job.trainSteps !== undefined || job.trainStepSize !== undefined || job.trainEpsRamp !== undefined;
  if (attackSettings && !defenses.some((d) => d.stage === 'adversarial')) {
    for (const d of defenses) d.dispose?.();
    throw new UserError(`${NAMES[names].attack} set the attack of adversarial training: add fgsm-at, fast-fgsm, pgd-at or trades to ${NAMES[names].defense}`);
  }
  return defenses;
}

/** The line printed after each epoch: its figures, an early stop, a collapse warning with what to try. */
export function epochLine(p: EpochProgress, monitorName: string, eps: number, defenses: Defense[], classes: number): string {
  const held = p.heldOut ? `, held-out clean ${pct(p.heldOut.clean)}, ${monitorName} ε=${eps} ${pct(p.heldOut.robust)} (n=${p.heldOut.n})` : '';
  const awp = defenses.some((d) => d.perturbWeights) ? 'start AWP later (awp=warmup:1 or more), ' : '';
  const collapse = p.collapsed
    ? ` — warning: the loss is ln ${classes} = ${Math.log(classes).toFixed(3)}, that of one output for every input, and accuracy is at chance: the network collapsed (dead ReLUs) and may not recover; ${awp}lower --lr or change --seed`
    : '';
  return `epoch ${p.epoch + 1}/${p.epochs}: loss ${p.loss.toFixed(4)}, train acc ${pct(p.accuracy)}${held}${p.stopped ? ` — stopping: ${p.stopped}` : ''}${collapse}`;
}

/**
 * Refuses --examples above what the training split keeps once the held-out examples are set
 * aside; `splitSize` is the whole split's. A bench config calls it before any entry trains.
 */
export function checkTrainingExamples(job: Pick<TrainJob, 'examples' | 'holdout'>, splitSize: number): void {
  if (job.examples === undefined) return;
  const holdout = job.holdout ?? 0;
  const left = splitSize - holdout;
  if (left < 1) throw new UserError(`cannot hold out ${holdout} of the ${splitSize} training examples: give a count from 1 to ${splitSize - 1}, e.g. --holdout 200`);
  if (job.examples > left) {
    const after = holdout > 0 ? `, ${left} once the ${holdout} held out for the monitor are set aside` : '';
    throw new UserError(`cannot train on ${job.examples} examples: the training split has ${splitSize}${after}: use at most ${left} (--examples, or "examples" in a bench config)`);
  }
}

/**
 * The examples a run trains on and those its monitor holds out: the held-out ones are drawn from
 * the whole split first, so that runs of any --examples are monitored on the same examples; then
 * the first n of balancedIndices, so that a smaller run's examples are part of every larger one's.
 */
export function trainingSplit(full: Dataset, job: Pick<TrainJob, 'examples' | 'holdout' | 'seed'>): { train: Dataset; heldOut: Dataset | undefined } {
  const holdout = job.holdout ?? 0;
  const { train, heldOut } = holdout > 0 ? holdOut(full, holdout, job.seed) : { train: full, heldOut: undefined };
  checkTrainingExamples(job, full.size);
  return { train: job.examples === undefined ? train : balancedSubset(train, job.examples), heldOut };
}

/** How many examples a run of `job` trains on, from a training split of `splitSize`. */
export function trainingExamples(job: Pick<TrainJob, 'examples' | 'holdout'>, splitSize: number): number {
  return job.examples ?? splitSize - (job.holdout ?? 0);
}

/** Where a run's checkpoints live until its model is saved. */
function checkpointDir(job: TrainJob, label: string): string {
  return path.join(`${path.resolve(job.out)}.checkpoint`, label);
}

/** The same command (all but --quiet and --out) resumes the same checkpoint; anything else starts afresh. */
function checkpointKey(job: TrainJob, label: string): string {
  const { quiet: _q, out: _o, ...rest } = job;
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
      // A collapse is a warning, not progress: --quiet does not hide it.
      logLine(job.quiet && !p.collapsed, `${label === 'teacher' ? 'teacher ' : ''}${epochLine(p, monitor?.attack.name ?? '', eps, defenses, data.numClasses)}`);
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
  const { train: data, heldOut } = trainingSplit(full, job);
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
      await fit(teacherModel, data, job, trainingDefenses(teacherSpecs, job, teacherModel), monitor, 'teacher');
      teacher = layersClassifier(teacherModel, { owned: true });
      teacherInfo.teacher = `trained in this run at temperature ${distillSpec.value ?? ''}`;
    }
    const defenses = trainingDefenses(specs, job, model, teacher);
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
        ...(job.examples !== undefined ? { examples: data.size } : {}),
        defense: defenseName,
        ...(defenses.length > 0 ? { defenses: Object.fromEntries(defenses.map((d) => [d.name, d.describe?.() ?? {}])) } : {}),
        ...teacherInfo,
        ...(heldOut ? { heldOut: heldOutRecord(heldOut.size, monitor!.attack.name, eps, summary.history) } : {}),
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

