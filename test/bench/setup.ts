/**
 * What the end-to-end benchmark (run.ts) and the profiler (profile.ts) measure: the committed
 * fixture mnist-cnn and a fixed class-balanced set of MNIST test digits, with one function per
 * measured task, each going through the library's public code paths and reading its result back
 * (so that the time includes the work, not just its scheduling).
 */
import * as tf from '@tensorflow/tfjs';
import { pgd } from '../../attacks/pgd.js';
import { balancedSubset, subset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { runAttack } from '../../attacks/run-attack.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { loadLayersModel } from '../../src/model/store.js';
import { objectiveGradient } from '../../src/tensor/gradient.js';
import { trainModel } from '../../src/train/loop.js';
import type { Classifier, Dataset } from '../../src/types.js';

export const FIXTURE_MODEL = 'fixtures/models/mnist-cnn';
export const BATCH = 128;
/** PGD settings of the issue: ε = 0.3, 10 steps of 2.5ε/10 (pgd()'s default rule), random start. */
export const PGD_EPS = 0.3;
export const PGD_STEPS = 10;
const PGD_SEED = 0;

export interface BenchSetup {
  classifier: Classifier;
  /** The attacked model's weights in layer order, as tfjs holds them (for the PyTorch export). */
  weights: Array<{ name: string; shape: number[]; values: Float32Array }>;
  /** The PGD set (its first BATCH examples are the fixed batch). */
  data: Dataset;
  /** The fixed batch's logits (the PyTorch script must reproduce them). */
  logits(): Float32Array;
  forward(): void;
  inputGradient(): void;
  /** PGD-10 over the first `images` examples of `data`, in batches of BATCH. */
  pgd(images?: number): Promise<void>;
  /** One Adam step (trainModel, one epoch of one batch) on a separate copy of the model. */
  trainStep(): Promise<void>;
  dispose(): void;
}

function rows(data: Dataset, from: number, to: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  return {
    x: tf.tensor4d(data.images.subarray(from * pixels, to * pixels), [to - from, h, w, c]),
    y: tf.tensor1d(data.labels.subarray(from, to), 'int32'),
  };
}

/** Loads the fixture model twice (attacked / trained) and `images` test digits (at least BATCH). */
export async function benchSetup(images = 1000): Promise<BenchSetup> {
  const attacked = (await loadLayersModel(FIXTURE_MODEL)).model;
  const trained = (await loadLayersModel(FIXTURE_MODEL)).model;
  const classifier = layersClassifier(attacked);
  const data = balancedSubset(loadMnist('test'), Math.max(BATCH, images));
  const batch = rows(data, 0, BATCH);
  const trainData = subset(data, Array.from({ length: BATCH }, (_, i) => i));
  const criterion = { labels: batch.y, targeted: false };
  const attack = pgd({ steps: PGD_STEPS });
  const weights = attacked.weights.map((w) => {
    const t = w.read();
    return { name: w.originalName, shape: t.shape.slice(), values: Float32Array.from(t.dataSync() as Float32Array) };
  });
  return {
    classifier,
    weights,
    data,
    logits: () => tf.tidy(() => Float32Array.from(classifier.logits(batch.x).dataSync() as Float32Array)),
    forward: () => {
      tf.tidy(() => {
        classifier.logits(batch.x).dataSync();
      });
    },
    inputGradient: () => {
      tf.tidy(() => {
        objectiveGradient(classifier, batch.x, criterion, { seed: 0, costs: { gradients: 0, queries: 0 } }).dataSync();
      });
    },
    pgd: async (n = data.size) => {
      for (let from = 0; from < n; from += BATCH) {
        const to = Math.min(n, from + BATCH);
        const { x, y } = rows(data, from, to);
        const indices = Int32Array.from({ length: to - from }, (_, i) => from + i);
        const { adv } = await runAttack(classifier, attack, x, { labels: y, targeted: false }, PGD_EPS, PGD_SEED, indices);
        await adv.data();
        tf.dispose([adv, x, y]);
      }
    },
    trainStep: async () => {
      await trainModel(trained, trainData, { epochs: 1, batchSize: BATCH, optimizer: 'adam', learningRate: 1e-3, seed: 0 });
    },
    dispose: () => {
      tf.dispose([batch.x, batch.y]);
      attacked.dispose();
      trained.dispose();
    },
  };
}
