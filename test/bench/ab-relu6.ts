/**
 * Interleaved A/B of the one-kernel 'relu6' activation (src/backend/relu6-activation.ts) on
 * MobileNetV2 at 224×224×3 (test/helpers/mobilenet.ts, random weights, batch norms folded as
 * loadModel folds them): forward pass and input gradient (summed CE) of the same weights built
 * with tf.layers' stock class (minimum(6, relu(x))) and with ours, alternating, median of
 * --rounds; wall and process CPU time. (That both compute the same values and gradients is
 * test/backend/relu6-activation.test.ts's business: random weights saturate this network.)
 *
 *   node --import tsx test/bench/ab-relu6.ts [--batch 2] [--rounds 7] [--threads 1]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.js';
import { registerRelu6Activation, unregisterRelu6Activation } from '../../src/backend/relu6-activation.js';
import { foldForInference } from '../../src/model/fold-batch-norm.js';
import { mobileNetV2 } from '../helpers/mobilenet.js';
import { median } from './report.js';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}
const BATCH = argNumber('--batch', 2);
const ROUNDS = argNumber('--rounds', 7);
const THREADS = argNumber('--threads', 1);

const backend = await initBackend('wasm', { threads: THREADS });
unregisterRelu6Activation();
const stock = foldForInference(mobileNetV2({ seed: 0 })).model;
registerRelu6Activation();
const ours = foldForInference(mobileNetV2({ seed: 0 })).model;
const x = tf.randomUniform([BATCH, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tidy(() => tf.oneHot(tf.range(0, BATCH, 1, 'int32'), 1000));
const logits = (m: tf.LayersModel): Float32Array => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
const gradient = (m: tf.LayersModel): Float32Array =>
  tf.tidy(() => tf.grad((xx) => tf.losses.softmaxCrossEntropy(y, m.apply(xx) as tf.Tensor, undefined, tf.Reduction.SUM))(x).dataSync() as Float32Array);

function measure(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

console.log(`MobileNetV2 224×224×3, batch ${BATCH}, wasm ${backend.threads} thread(s), batch norms folded; ${ROUNDS} interleaved rounds`);
for (const [label, run] of [
  ['forward', logits],
  ['input gradient', gradient],
] as const) {
  const a = (): void => void run(stock);
  const b = (): void => void run(ours);
  const old: Array<{ wall: number; cpu: number }> = [];
  const neu: Array<{ wall: number; cpu: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) (old.push(measure(a)), neu.push(measure(b)));
    else (neu.push(measure(b)), old.push(measure(a)));
  }
  const m = (s: typeof old, k: 'wall' | 'cpu'): number => median(s.map((v) => v[k]));
  console.log(
    `${label.padEnd(15)} stock ${m(old, 'wall').toFixed(0)} ms wall ${m(old, 'cpu').toFixed(0)} ms cpu | one kernel ${m(neu, 'wall').toFixed(0)} ms wall ${m(neu, 'cpu').toFixed(0)} ms cpu | ` +
      `stock/ours wall ${(m(old, 'wall') / m(neu, 'wall')).toFixed(2)}×, cpu ${(m(old, 'cpu') / m(neu, 'cpu')).toFixed(2)}×`,
  );
}
tf.dispose([x, y]);
stock.dispose();
ours.dispose();
