/**
 * Per-kernel self time (kernel-profile.ts) of a MobileNetV2 input gradient (tf.grad w.r.t. x
 * only, summed CE, test/helpers/mobilenet.ts at 224×224×3) on wasm, with advtest's gradient
 * configs (lazy-grads.ts) or, with --stock-grads, tfjs's own (the "before" of that work).
 * --forward profiles the logits instead, of the model with its batch norms folded (as loadModel
 * and `npm run bench -- --only mobilenet` evaluate it).
 *
 *   node --import tsx test/bench/profile-mobilenet.ts [--batch 2] [--runs 1] [--stock-grads] [--forward] [--top 20]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.js';
import { unregisterLazyGradients } from '../../src/backend/lazy-grads.js';
import { foldForInference } from '../../src/model/fold-batch-norm.js';
import { mobileNetV2 } from '../helpers/mobilenet.js';
import { byKernelName, KernelProfiler } from './kernel-profile.js';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

const BATCH = argNumber('--batch', 2);
const RUNS = argNumber('--runs', 1);
const TOP = argNumber('--top', 20);
const STOCK = process.argv.includes('--stock-grads');
const FORWARD = process.argv.includes('--forward');

await initBackend('wasm');
if (STOCK) unregisterLazyGradients();
const model = mobileNetV2({ seed: 0 });
const x = tf.randomUniform([BATCH, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.oneHot(tf.range(0, BATCH, 1, 'int32'), 1000);
// Folding disposes the model it folds when it folds anything.
const folded = FORWARD ? foldForInference(model).model : undefined;
const grad = (): void => {
  tf.tidy(() => {
    if (folded) (folded.predict(x) as tf.Tensor).dataSync();
    else tf.grad((xx) => tf.losses.softmaxCrossEntropy(y, model.apply(xx) as tf.Tensor, undefined, tf.Reduction.SUM))(x).dataSync();
  });
};
grad(); // warm-up
const profiler = new KernelProfiler();
profiler.start();
const t0 = performance.now();
try {
  for (let r = 0; r < RUNS; r++) await profiler.record(grad);
} finally {
  profiler.stop();
}
const wall = (performance.now() - t0) / RUNS;
const stats = byKernelName(profiler.results());
const total = stats.reduce((a, s) => a + s.selfMs, 0);
console.log(`MobileNetV2 ${FORWARD ? 'forward (batch norms folded)' : 'input gradient'}, batch ${BATCH}, ${STOCK ? "tfjs's stock gradient configs" : 'advtest gradient configs'}: ${wall.toFixed(0)} ms wall, ${(total / RUNS).toFixed(0)} ms in kernels, ${stats.reduce((a, s) => a + s.calls, 0) / RUNS} kernel calls`);
for (const s of stats.slice(0, TOP)) {
  console.log(`  ${(s.selfMs / RUNS).toFixed(1).padStart(9)} ms ${((100 * s.selfMs) / total).toFixed(1).padStart(5)}%  ×${String(s.calls / RUNS).padEnd(5)} ${s.key}`);
}
tf.dispose([x, y]);
(folded ?? model).dispose();
