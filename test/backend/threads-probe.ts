/**
 * Worker entry for wasm-threads.test.ts: starts wasm with workerData.threads kernel threads and
 * computes, on the fixture mnist-cnn and 128 test digits, what advtest's numbers come from —
 * logits, an input gradient, a PGD-10 result and the weights after two epochs of Adam — and
 * posts them back as raw float32 values for a bit-for-bit comparison.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { pgd } from '../../attacks/pgd.js';
import { initBackend } from '../../src/backend/select.js';
import { simdKernelsUnavailable } from '../../src/backend/simd-kernels.js';
import { balancedSubset, subset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { runAttack } from '../../attacks/run-attack.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { loadLayersModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { objectiveGradient } from '../../src/tensor/gradient.js';
import { trainModel } from '../../src/train/loop.js';

export interface ThreadsProbeResult {
  threads: number;
  /** Why advtest's SIMD kernels (simd-kernels.ts) do not run on this heap; null when they do. */
  simdKernels: string | null;
  logits: Float32Array;
  gradient: Float32Array;
  adversarial: Float32Array;
  trained: Float32Array;
}

const N = 128;
const backend = await initBackend('wasm', { threads: (workerData as { threads: number }).threads });
const data = balancedSubset(loadMnist('test'), N);
const x = tf.tensor4d(data.images, [N, 28, 28, 1]);
const y = tf.tensor1d(data.labels, 'int32');
const model = (await loadLayersModel(fixtureModelPath('mnist-cnn'))).model;
const classifier = layersClassifier(model);
const criterion = { labels: y, targeted: false };
const read = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);

const logits = tf.tidy(() => read(classifier.logits(x)));
const gradient = tf.tidy(() => read(objectiveGradient(classifier, x, criterion, { seed: 0, costs: { gradients: 0, queries: 0 } })));
const indices = Int32Array.from({ length: N }, (_, i) => i);
const { adv } = await runAttack(classifier, pgd({ steps: 10 }), x, criterion, 0.3, 0, indices);
const adversarial = read(adv);
adv.dispose();
await trainModel(model, subset(data, Array.from(indices)), { epochs: 2, batchSize: 32, optimizer: 'adam', learningRate: 1e-3, seed: 0 });
const trained = Float32Array.from(model.getWeights().flatMap((w) => Array.from(w.dataSync() as Float32Array)));
tf.dispose([x, y]);
model.dispose();

const simdKernels = simdKernelsUnavailable(tf.backend() as Parameters<typeof simdKernelsUnavailable>[0]) ?? null;
const result: ThreadsProbeResult = { threads: backend.threads ?? 0, simdKernels, logits, gradient, adversarial, trained };
parentPort?.postMessage(result);
