/**
 * Soak test (issue: reliability): the full 10,000-image Fashion-MNIST test set under PGD-10,
 * sampling resident memory and the live tensor count after every batch. Both must stay flat
 * once the first batches have warmed the backend up. Not part of `npm test`:
 *   node --import tsx test/bench/soak.ts [--limit N] [--json test-artifacts/soak.json]
 * Needs Debian's dataset-fashion-mnist (or --data-dir). The model is an mnist-cnn trained for one
 * epoch on 10,000 training images: the point is memory and throughput, not accuracy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { pgd } from '../../attacks/pgd.js';
import { initBackend } from '../../src/backend/select.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadFashionMnist } from '../../src/data/fashion-mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { trainModel } from '../../src/train/loop.js';

const { values } = parseArgs({ options: { limit: { type: 'string' }, json: { type: 'string', default: 'test-artifacts/soak.json' }, 'data-dir': { type: 'string' } } });
const backend = await initBackend('wasm');
const dir = values['data-dir'];
const train = balancedSubset(loadFashionMnist('train', dir), 10_000);
let test = loadFashionMnist('test', dir);
if (values.limit) test = balancedSubset(test, Number(values.limit));

const model = buildArchitecture('mnist-cnn', [28, 28, 1], 10, 0);
await trainModel(model, train, { epochs: 1, batchSize: 64, seed: 0 });
const classifier = layersClassifier(model);

const samples: { batch: number; done: number; rssMiB: number; tensors: number; seconds: number }[] = [];
const t0 = Date.now();
let batch = 0;
const report = await evaluate(classifier, test, [pgd({ steps: 10 })], [0.1], {
  batchSize: 128,
  probes: false,
  onProgress: (p) => {
    if (p.phase !== undefined) return;
    samples.push({ batch: batch++, done: p.done, rssMiB: process.memoryUsage().rss / 2 ** 20, tensors: tf.memory().numTensors, seconds: (Date.now() - t0) / 1000 });
  },
});

// Flat after warm-up: compare the last three quarters with the end of the first quarter.
const warm = samples.slice(Math.max(1, Math.floor(samples.length / 4)));
const base = warm[0]!;
const peakRss = Math.max(...warm.map((s) => s.rssMiB));
const tensorValues = new Set(warm.map((s) => s.tensors));
const rssGrowth = (peakRss - base.rssMiB) / base.rssMiB;
const summary = {
  backend: backend.name,
  examples: test.size,
  cleanAccuracy: report.clean.accuracy,
  pgd10Accuracy: report.results[0]!.accuracy,
  seconds: (Date.now() - t0) / 1000,
  imagesPerSecond: test.size / ((Date.now() - t0) / 1000),
  rssMiB: { afterWarmUp: base.rssMiB, peak: peakRss, growth: rssGrowth },
  tensors: { afterWarmUp: base.tensors, distinctValues: [...tensorValues] },
  flat: rssGrowth < 0.1 && tensorValues.size === 1,
};
await mkdir(path.dirname(values.json!), { recursive: true });
await writeFile(values.json!, JSON.stringify({ summary, samples }, null, 2));
console.log(JSON.stringify(summary, null, 2));
if (!summary.flat) {
  console.error('soak: memory or tensor count did not stay flat');
  process.exitCode = 1;
}
