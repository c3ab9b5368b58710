import * as tf from '@tensorflow/tfjs';
import { layersClassifier } from '../model/classifier.js';
import { makeRng, permutation } from '../tensor/random.js';
import type { Classifier, Dataset } from '../types.js';
import { makeOptimizer, type OptimizerName } from './optimizers.js';

/** Where a training-time defense plugs in; every hook works inside the step's tidy scope. */
export interface TrainingHooks {
  /** Replace or extend the batch (augmentation, adversarial examples). */
  batch?(x: tf.Tensor4D, y: tf.Tensor1D, ctx: HookContext): { x: tf.Tensor4D; y: tf.Tensor1D };
  /** The training loss from the model's logits (label smoothing, TRADES, distillation). */
  loss?(logits: tf.Tensor2D, y: tf.Tensor1D, ctx: HookContext): tf.Scalar;
  /** Transform gradients before the update (clipping). */
  gradients?(grads: tf.NamedTensorMap, ctx: HookContext): tf.NamedTensorMap;
}

export interface HookContext {
  classifier: Classifier;
  epoch: number;
  step: number;
  seed: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: OptimizerName;
  seed?: number;
  hooks?: TrainingHooks;
  onStep?: (p: StepProgress) => void;
}

export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
}

export interface TrainSummary {
  epochs: number;
  steps: number;
  finalLoss: number;
  trainAccuracy: number;
  seconds: number;
}

function meanCrossEntropy(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), logits.shape[1]), logits) as tf.Scalar;
}

/**
 * The one training loop: seeded shuffling, one optimizer step per batch, hooks for defenses.
 * Uses variableGrads + applyGradients (not model.fit) so that gradients can be transformed.
 */
export async function trainModel(model: tf.LayersModel, data: Dataset, options: TrainOptions): Promise<TrainSummary> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 64;
  const seed = options.seed ?? 0;
  const optimizer = makeOptimizer(options.optimizer ?? 'adam', options.learningRate ?? 1e-3);
  const classifier = layersClassifier(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  const stepsPerEpoch = Math.ceil(data.size / batchSize);
  const rng = makeRng(seed);
  let lastLoss = NaN;
  let correct = 0;
  let seen = 0;
  let globalStep = 0;
  const hooks = options.hooks ?? {};

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = permutation(data.size, rng);
    correct = 0;
    seen = 0;
    for (let step = 0; step < stepsPerEpoch; step++) {
      const idx = order.subarray(step * batchSize, Math.min((step + 1) * batchSize, data.size));
      const xs = new Float32Array(idx.length * pixels);
      const ys = new Int32Array(idx.length);
      idx.forEach((src, j) => {
        xs.set(data.images.subarray(src * pixels, (src + 1) * pixels), j * pixels);
        ys[j] = data.labels[src]!;
      });
      const ctx: HookContext = { classifier, epoch, step: globalStep, seed: seed * 1_000_003 + globalStep };
      const [lossValue, batchCorrect] = tf.tidy(() => {
        let x = tf.tensor4d(xs, [idx.length, h, w, c]);
        let y = tf.tensor1d(ys, 'int32');
        if (hooks.batch) ({ x, y } = hooks.batch(x, y, ctx));
        let hits: tf.Scalar | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const logits = classifier.logits(x);
          hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(y, 'int32')), 'float32')) as tf.Scalar);
          return hooks.loss ? hooks.loss(logits, y, ctx) : meanCrossEntropy(logits, y);
        }, vars);
        optimizer.applyGradients(hooks.gradients ? hooks.gradients(grads, ctx) : grads);
        const hitCount = hits!.dataSync()[0]!;
        hits!.dispose();
        return [value.dataSync()[0]!, (hitCount / y.shape[0]) * idx.length];
      });
      lastLoss = lossValue;
      correct += batchCorrect;
      seen += idx.length;
      globalStep++;
      options.onStep?.({ epoch, epochs: options.epochs, step: step + 1, steps: stepsPerEpoch, loss: lossValue, accuracy: correct / seen });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  optimizer.dispose();
  return { epochs: options.epochs, steps: globalStep, finalLoss: lastLoss, trainAccuracy: seen === 0 ? 0 : correct / seen, seconds: (Date.now() - started) / 1000 };
}
