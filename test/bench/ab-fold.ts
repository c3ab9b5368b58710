/**
 * Interleaved A/B of BatchNormalization folding (src/backend/fold-batch-norm.ts) on MobileNetV2
 * at 224×224×3 (test/helpers/mobilenet.ts, random weights): the forward pass and the input
 * gradient (summed CE) of the original and of the folded model, alternating, median of --rounds;
 * wall and process CPU time, and the kernel calls of one input gradient of each (which load does
 * not change).
 *
 *   node --import tsx test/bench/ab-fold.ts [--batch 2] [--rounds 7] [--threads 1]
 */
import * as tf from '@tensorflow/tfjs';
import { foldBatchNorm } from '../../src/model/fold-batch-norm.js';
import { initBackend } from '../../src/backend/select.js';
import { mobileNetV2 } from '../helpers/mobilenet.js';
import { byKernelName, KernelProfiler } from './kernel-profile.js';
import { argNumber, interleavedAB } from './ab-tools.js';

const BATCH = argNumber('--batch', 2);
const ROUNDS = argNumber('--rounds', 7);
const THREADS = argNumber('--threads', 1);

const backend = await initBackend('wasm', { threads: THREADS });
const model = mobileNetV2({ seed: 0 });
const { model: folded, folded: n } = foldBatchNorm(model);
const x = tf.randomUniform([BATCH, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tidy(() => tf.oneHot(tf.range(0, BATCH, 1, 'int32'), 1000));
const forward = (m: tf.LayersModel) => (): void => {
  tf.tidy(() => {
    (m.predict(x) as tf.Tensor).dataSync();
  });
};
const grad = (m: tf.LayersModel) => (): void => {
  tf.tidy(() => {
    tf.grad((xx) => tf.losses.softmaxCrossEntropy(y, m.apply(xx) as tf.Tensor, undefined, tf.Reduction.SUM))(x).dataSync();
  });
};

console.log(`MobileNetV2 224×224×3, batch ${BATCH}, wasm ${backend.threads} thread(s): ${n} BatchNormalization layers folded; ${ROUNDS} interleaved rounds`);
for (const [label, make] of [
  ['forward', forward],
  ['input gradient', grad],
] as const) {
  interleavedAB(label, ['unfolded', make(model)], ['folded', make(folded)], ROUNDS);
}
const profiler = new KernelProfiler();
profiler.start();
for (const [label, m] of [
  ['unfolded', model],
  ['folded', folded],
] as const) {
  profiler.reset();
  await profiler.record(grad(m));
  const stats = byKernelName(profiler.results());
  const total = stats.reduce((s, k) => s + k.selfMs, 0);
  console.log(`\ninput gradient, ${label}: ${stats.reduce((s, k) => s + k.calls, 0)} kernel calls`);
  for (const s of stats.slice(0, 12)) console.log(`  ${s.key.padEnd(36)} ×${String(s.calls).padEnd(4)} ${((100 * s.selfMs) / total).toFixed(1).padStart(5)}%`);
}
profiler.stop();
tf.dispose([x, y]);
model.dispose();
folded.dispose();
