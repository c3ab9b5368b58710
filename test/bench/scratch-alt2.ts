import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropFilterViaConv, conv2dBackpropFilterIm2col, registerWasmGradKernels } from '../../src/backend/wasm-kernels.js';

await tf.setBackend('wasm'); await tf.ready(); registerWasmGradKernels();
const be = tf.backend() as BackendWasm;
function time(name: string, f: () => tf.Tensor, runs = 9): number {
  const ts: number[] = [];
  for (let r = -2; r < runs; r++) { const t0 = performance.now(); tf.tidy(() => { f().dataSync(); }); if (r >= 0) ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b); const m = ts[Math.floor(ts.length / 2)]!;
  console.log(`${name.padEnd(50)} ${m.toFixed(2)} ms`); return m;
}
const x2 = tf.randomNormal([128, 13, 13, 32]) as tf.Tensor4D;
const dy2 = tf.randomNormal([128, 11, 11, 64]) as tf.Tensor4D;
for (let k = 0; k < 2; k++) {
time('conv2 dW conv', () => conv2dBackpropFilterViaConv(x2, dy2, [3, 3, 32, 64], 1, 'valid'));
time('conv2 dW im2col', () => conv2dBackpropFilterIm2col(x2, dy2, [3, 3, 32, 64], 1, 'valid'));
time('conv2 dW P[M,288] concat last + dyT', () => {
  const taps: tf.Tensor[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) taps.push(tf.slice(x2, [0, r, c, 0], [128, 11, 11, 32]));
  const p = tf.reshape(tf.concat(taps, 3), [15488, 288]);
  return tf.matMul(tf.transpose(tf.reshape(dy2, [15488, 64])), p);
});
time('conv2 dW parts: transpose x', () => tf.transpose(x2, [3, 0, 1, 2]));
time('conv2 dW parts: gemm [288,15488]x[15488,64]', () => tf.matMul(tf.ones([288, 15488]), tf.reshape(dy2, [15488, 64])));
time('conv2 fwd (scale)', () => tf.conv2d(x2, tf.ones([3, 3, 32, 64]) as tf.Tensor4D, 1, 'valid'));
}
