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
import { argNumber, interleavedAB } from './ab-tools.js';

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

console.log(`MobileNetV2 224×224×3, batch ${BATCH}, wasm ${backend.threads} thread(s), batch norms folded; ${ROUNDS} interleaved rounds`);
for (const [label, run] of [
  ['forward', logits],
  ['input gradient', gradient],
] as const) {
  interleavedAB(label, ['stock', (): void => void run(stock)], ['one kernel', (): void => void run(ours)], ROUNDS);
}
tf.dispose([x, y]);
stock.dispose();
ours.dispose();
