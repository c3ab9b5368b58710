import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { layersClassifier } from '../model/classifier.js';
import { makeRestorableRng, permutation } from '../tensor/random.js';
import { loadCheckpoint, saveCheckpoint, type NamedTensor } from './checkpoint.js';
import type { Classifier, Dataset } from '../types.js';
import { collapsed, measureRobustness, type EpochProgress, type MonitorOptions } from './monitor.js';
import { makeOptimizer, type OptimizerName } from './optimizers.js';
import { makeSchedule, setLearningRate, type Schedule, type ScheduleName } from './schedule.js';
import { pct } from '../number-format.js';

/**
 * What one step trains on. The loop disposes every tensor of it (and the batch it handed to
 * the batch hook) once the step is done.
 */
export interface TrainingBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** Target distributions [rows, classes] for the default loss (label smoothing, distillation); absent: one-hot y. */
  targets?: tf.Tensor2D;
  /**
   * When the hook appended rows derived from the examples (adversarial partners): the number of
   * leading rows that are the examples themselves; row clean + i derives from row i.
   */
  clean?: number;
}

/** Where a training-time defense plugs in. */
export interface TrainingHooks {
  /**
   * Replace or extend the batch (augmentation, adversarial examples). Runs before the gradient
   * tape is opened, so it may run attacks (and await them) without recording onto it. It must
   * leave no intermediate tensor behind (tf.tidy its synchronous parts); the returned tensors
   * belong to the loop.
   */
  batch?(x: tf.Tensor4D, y: tf.Tensor1D, ctx: HookContext): TrainingBatch | Promise<TrainingBatch>;
  /** The training loss from the model's logits on batch.x (label smoothing, TRADES, distillation). */
  loss?(logits: tf.Tensor2D, y: tf.Tensor1D, ctx: HookContext, batch: TrainingBatch): tf.Scalar;
  /**
   * Transform gradients before the update (clipping). Keep the keys and their order: tfjs's
   * momentum optimizers match their accumulators to gradients by position.
   */
  gradients?(grads: tf.NamedTensorMap, ctx: HookContext): tf.NamedTensorMap;
  /** After the optimizer's update, inside a tidy scope (weight constraints such as max-norm). */
  afterStep?(ctx: HookContext): void;
  /**
   * After the batch hook, before the tape: move the weights (adversarial weight perturbation).
   * `loss` is the step's training loss on the batch, as the tape will compute it. The returned
   * function puts the weights back; the loop calls it once the gradients are taken, before they
   * are transformed and applied, so the update is made from the unperturbed weights.
   */
  perturbWeights?(ctx: HookContext, loss: () => tf.Scalar): () => void;
  /** Runs fn with the weights to evaluate in the model (weight averaging swaps its average in, and back). */
  withEvaluationWeights?<T>(model: tf.LayersModel, fn: () => Promise<T>): Promise<T>;
  /** After the last epoch: put the weights to keep into the model (weight averaging: the average). */
  finish?(model: tf.LayersModel): void;
  /** State checkpointed beside the model and the optimizer (the running average), given back on resume. */
  state?(): NamedTensor[];
  restoreState?(saved: NamedTensor[]): void;
  /** When training ends, however it ends: release the hooks' tensors. */
  dispose?(): void;
}

export interface HookContext {
  /** The model in inference mode (what attacks inside a batch hook should use). */
  classifier: Classifier;
  model: tf.LayersModel;
  epoch: number;
  step: number;
  /** A seed for this step's randomness (augmentation, random starts). */
  seed: number;
  learningRate: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: OptimizerName;
  /** Learning rate over the run (default constant). */
  schedule?: ScheduleName | Schedule;
  seed?: number;
  hooks?: TrainingHooks;
  /**
   * Save the state after every epoch in `dir` and, when a checkpoint of the same configuration
   * (`key`) is there, continue from it: a killed run resumed gives the weights of an
   * uninterrupted one.
   */
  checkpoint?: { dir: string; key: string };
  /** Held-out examples attacked after every epoch (catastrophic overfitting shows here). */
  monitor?: MonitorOptions;
  /**
   * Stop when the monitored robust accuracy falls by more than `drop` (accuracy points, 0..1)
   * from the previous epoch's, and restore that epoch's weights: the early stopping of Wong,
   * Rice & Kolter 2020 (arXiv:2001.03994, §5.3) against catastrophic overfitting. Needs monitor.
   */
  earlyStop?: { drop: number };
  onStep?: (p: StepProgress) => void;
  onEpoch?: (p: EpochProgress) => void;
}

export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  learningRate: number;
}

// Defined beside the monitor's figures, so that checkpoint.ts can store it without importing the loop.
export type { EpochProgress } from './monitor.js';

export interface TrainSummary {
  epochs: number;
  steps: number;
  finalLoss: number;
  trainAccuracy: number;
  seconds: number;
  history: EpochProgress[];
  /** Why and where training stopped early; the weights are those after epoch restoredEpoch. */
  stoppedEarly?: { epoch: number; restoredEpoch: number; reason: string };
}

function defaultLoss(logits: tf.Tensor2D, y: tf.Tensor1D, batch: TrainingBatch): tf.Scalar {
  const targets = batch.targets ?? tf.oneHot(tf.cast(y, 'int32'), logits.shape[1]);
  return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
}

/** Diverged training: a NaN or infinite loss or weight is never written out as a model. */
function diverged(what: string, epoch: number, step: number, stepsPerEpoch: number, learningRate: number): UserError {
  return new UserError(
    `training diverged at epoch ${epoch + 1}, step ${step + 1} of ${stepsPerEpoch}: ${what} (learning rate ${learningRate}); no model was written: lower the learning rate (--lr), and check the data and any teacher model for NaN`,
  );
}

/** The first trainable weight holding NaN or ±Infinity, if any. */
function nonFiniteWeight(model: tf.LayersModel): string | undefined {
  return model.trainableWeights.find((w) => tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(w.read()))).dataSync()[0] === 1))?.name;
}

/** This process's CPU time in seconds (all threads), where the platform tells it (Node). */
function cpuSeconds(): number | undefined {
  if (typeof process === 'undefined' || typeof process.cpuUsage !== 'function') return undefined;
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function disposeBatch(...batches: TrainingBatch[]): void {
  tf.dispose(batches.flatMap((b) => [b.x, b.y, ...(b.targets ? [b.targets] : [])]));
}

/** Names of optimizer state that getWeights leaves out, stored beside it in checkpoints. */
const EXTRA = 'advtest-extra:';

/**
 * Variables an optimizer keeps outside getWeights — Adam's running β₁ᵗ and β₂ᵗ, which its
 * setWeights recomputes as a power and so rounds differently from the running product. A resumed
 * run must restore them bit for bit to match an uninterrupted one.
 */
function optimizerExtras(optimizer: tf.Optimizer): { name: string; tensor: tf.Tensor }[] {
  return Object.entries(optimizer)
    .filter(([, v]) => v instanceof tf.Variable)
    .map(([k, v]) => ({ name: EXTRA + k, tensor: v as tf.Variable }));
}

function restoreOptimizerExtras(optimizer: tf.Optimizer, saved: { name: string; tensor: tf.Tensor }[]): void {
  const own = optimizer as unknown as Record<string, unknown>;
  for (const { name, tensor } of saved.filter((n) => n.name.startsWith(EXTRA))) {
    const target = own[name.slice(EXTRA.length)];
    if (target instanceof tf.Variable) target.assign(tensor);
  }
}

/**
 * The one training loop: seeded shuffling, one optimizer step per batch, hooks for defenses.
 * Uses variableGrads + applyGradients (not model.fit) so that gradients can be transformed.
 */
export async function trainModel(model: tf.LayersModel, data: Dataset, options: TrainOptions): Promise<TrainSummary> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 64;
  const seed = options.seed ?? 0;
  const baseRate = options.learningRate ?? 1e-3;
  const optimizer = makeOptimizer(options.optimizer ?? 'adam', baseRate);
  const schedule = typeof options.schedule === 'function' ? options.schedule : options.schedule && options.schedule !== 'constant' ? makeSchedule(options.schedule) : undefined;
  if (options.earlyStop && !options.monitor) throw new Error('trainModel: earlyStop needs a monitor (held-out examples and an attack)');
  const classifier = layersClassifier(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  const stepsPerEpoch = Math.ceil(data.size / batchSize);
  const totalSteps = stepsPerEpoch * options.epochs;
  const resumed = options.checkpoint ? await loadCheckpoint(options.checkpoint.dir, options.checkpoint.key) : undefined;
  const rng = makeRestorableRng(seed, resumed?.rngState);
  let lastLoss = NaN;
  let correct = 0;
  let seen = 0;
  let globalStep = resumed?.globalStep ?? 0;
  const hooks = options.hooks ?? {};
  const history: EpochProgress[] = resumed?.history ?? [];
  const trained = { seconds: history.at(-1)?.seconds ?? 0, cpuSeconds: history.at(-1)?.cpuSeconds ?? 0 };
  // A checkpoint from before times were recorded: later sums would leave its epochs out, so none are kept.
  const timed = history.every((h) => h.seconds !== undefined);
  let stoppedEarly: TrainSummary['stoppedEarly'];
  // Weights after the previous epoch, kept for early stopping to fall back on.
  let snapshot: tf.Tensor[] | undefined;
  // Undoes this step's weight perturbation (perturbWeights); cleared once called.
  let restoreWeights: (() => void) | undefined;
  const undoPerturbation = (): void => {
    const undo = restoreWeights;
    restoreWeights = undefined;
    undo?.();
  };

  if (resumed) {
    model.setWeights(resumed.model);
    await optimizer.setWeights(resumed.optimizer.filter((n) => !n.name.startsWith(EXTRA)));
    restoreOptimizerExtras(optimizer, resumed.optimizer);
    // Both copied what they keep (variables share data by reference count).
    tf.dispose(resumed.model);
    tf.dispose(resumed.optimizer.map((n) => n.tensor));
    if (resumed.hooks) {
      hooks.restoreState?.(resumed.hooks);
      tf.dispose(resumed.hooks.map((n) => n.tensor));
    }
    // Early stopping falls back to the weights after the last completed epoch: these.
    if (options.earlyStop) snapshot = model.getWeights().map((t) => tf.clone(t));
  }

  try {
    for (let epoch = resumed?.epoch ?? 0; epoch < options.epochs; epoch++) {
      const order = permutation(data.size, rng);
      const epochStart = { wall: performance.now(), cpu: cpuSeconds() };
      correct = 0;
      seen = 0;
      let lossSum = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        const idx = order.subarray(step * batchSize, Math.min((step + 1) * batchSize, data.size));
        const xs = new Float32Array(idx.length * pixels);
        const ys = new Int32Array(idx.length);
        idx.forEach((src, j) => {
          xs.set(data.images.subarray(src * pixels, (src + 1) * pixels), j * pixels);
          ys[j] = data.labels[src]!;
        });
        const learningRate = schedule ? schedule(baseRate, globalStep, totalSteps) : baseRate;
        if (schedule) setLearningRate(optimizer, learningRate);
        const ctx: HookContext = { classifier, model, epoch, step: globalStep, seed: seed * 1_000_003 + globalStep, learningRate };
        const input: TrainingBatch = { x: tf.tensor4d(xs, [idx.length, h, w, c]), y: tf.tensor1d(ys, 'int32') };
        let batch = input;
        try {
          // Before the tape: adversarial examples made here are constants of the training loss.
          if (hooks.batch) batch = await hooks.batch(input.x, input.y, ctx);
          const stepBatch = batch;
          const lossOf = (logits: tf.Tensor2D): tf.Scalar => (hooks.loss ? hooks.loss(logits, stepBatch.y, ctx, stepBatch) : defaultLoss(logits, stepBatch.y, stepBatch));
          restoreWeights = hooks.perturbWeights?.(ctx, () => lossOf(classifier.logits(stepBatch.x)));
          const [lossValue, batchCorrect] = tf.tidy(() => {
            const { x, y } = batch;
            let hits: tf.Scalar | undefined;
            const { value, grads } = tf.variableGrads(() => {
              const logits = classifier.logits(x);
              hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(y, 'int32')), 'float32')) as tf.Scalar);
              return lossOf(logits);
            }, vars);
            undoPerturbation();
            optimizer.applyGradients(hooks.gradients ? hooks.gradients(grads, ctx) : grads);
            const hitCount = hits!.dataSync()[0]!;
            hits!.dispose();
            return [value.dataSync()[0]!, (hitCount / y.shape[0]) * idx.length];
          });
          if (!Number.isFinite(lossValue)) throw diverged(`the loss is ${lossValue}`, epoch, step, stepsPerEpoch, learningRate);
          if (hooks.afterStep) tf.tidy(() => hooks.afterStep!(ctx));
          lastLoss = lossValue;
          lossSum += lossValue * idx.length;
          correct += batchCorrect;
        } finally {
          undoPerturbation();
          disposeBatch(input, batch);
        }
        seen += idx.length;
        globalStep++;
        options.onStep?.({ epoch, epochs: options.epochs, step: step + 1, steps: stepsPerEpoch, loss: lastLoss, accuracy: correct / seen, learningRate });
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // The last update can overflow with a finite loss before it: never checkpoint or return such weights.
      const badWeight = nonFiniteWeight(model);
      if (badWeight !== undefined) throw diverged(`weight ${badWeight} holds NaN or infinite values`, epoch, stepsPerEpoch - 1, stepsPerEpoch, schedule ? schedule(baseRate, globalStep - 1, totalSteps) : baseRate);
      trained.seconds += (performance.now() - epochStart.wall) / 1000;
      const cpu = cpuSeconds();
      if (cpu !== undefined && epochStart.cpu !== undefined) trained.cpuSeconds += cpu - epochStart.cpu;
      const times = timed ? { seconds: trained.seconds, ...(cpu !== undefined ? { cpuSeconds: trained.cpuSeconds } : {}) } : {};
      const progress: EpochProgress = { epoch, epochs: options.epochs, loss: lossSum / seen, accuracy: correct / seen, ...times };
      if (options.monitor) {
        // The same seed every epoch: the attack's random starts do not vary between measurements.
        const monitor = options.monitor;
        const measure = () => measureRobustness(classifier, monitor, seed);
        progress.heldOut = await (hooks.withEvaluationWeights ? hooks.withEvaluationWeights(model, measure) : measure());
        const previous = history[history.length - 1]?.heldOut;
        const drop = options.earlyStop?.drop;
        if (drop !== undefined && previous && progress.heldOut.robust < previous.robust - drop) {
          progress.stopped = `held-out ${options.monitor.attack.name} accuracy fell from ${pct(previous.robust)} to ${pct(progress.heldOut.robust)} (more than ${pct(drop)}): catastrophic overfitting`;
          stoppedEarly = { epoch, restoredEpoch: epoch - 1, reason: progress.stopped };
          model.setWeights(snapshot!);
        } else if (drop !== undefined) {
          tf.dispose(snapshot);
          snapshot = model.getWeights().map((t) => tf.clone(t));
        }
      }
      if (collapsed(progress, classifier.numClasses)) progress.collapsed = true;
      history.push(progress);
      if (options.checkpoint && !stoppedEarly) {
        const optimizerState = [...(await optimizer.getWeights()), ...optimizerExtras(optimizer)];
        await saveCheckpoint(options.checkpoint.dir, {
          key: options.checkpoint.key,
          epoch: epoch + 1,
          globalStep,
          rngState: rng.state(),
          history,
          model: model.getWeights(),
          optimizer: optimizerState,
          ...(hooks.state ? { hooks: hooks.state() } : {}),
        });
        // The step counter comes as a fresh scalar; the rest are the optimizer's own variables.
        tf.dispose(optimizerState.map((n) => n.tensor).filter((t) => !(t instanceof tf.Variable)));
      }
      options.onEpoch?.(progress);
      if (stoppedEarly) break;
    }
    hooks.finish?.(model);
  } finally {
    tf.dispose(snapshot);
    optimizer.dispose();
    hooks.dispose?.();
  }
  const last = history[history.length - 1];
  return {
    epochs: history.length,
    steps: globalStep,
    finalLoss: lastLoss,
    trainAccuracy: last ? last.accuracy : 0,
    seconds: (Date.now() - started) / 1000,
    history,
    ...(stoppedEarly ? { stoppedEarly } : {}),
  };
}
