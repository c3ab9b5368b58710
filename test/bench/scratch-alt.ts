// scratch: alternatives for kernels (deleted before hand-off)
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropInputViaConv, conv2dBackpropFilterIm2col, registerWasmGradKernels } from '../../src/backend/wasm-kernels.js';

await tf.setBackend('wasm'); await tf.ready(); registerWasmGradKernels();
const be = tf.backend() as BackendWasm;
const stockTile = tf.getKernel('Tile', 'wasm')!;
function time(name: string, f: () => tf.Tensor, runs = 9): number {
  const ts: number[] = [];
  for (let r = -2; r < runs; r++) { const t0 = performance.now(); tf.tidy(() => { f().dataSync(); }); if (r >= 0) ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b); const m = ts[Math.floor(ts.length / 2)]!;
  console.log(`${name.padEnd(50)} ${m.toFixed(2)} ms`); return m;
}
function heap(t: tf.Tensor): Float32Array { return be.typedArrayFromHeap(t as unknown as tf.TensorInfo) as Float32Array; }

// Tile
const cond = tf.tensor4d(Array.from({ length: 128 }, (_, i) => i % 2), [128, 1, 1, 1], 'bool');
time('Tile stock bool', () => tf.engine().makeTensorFromTensorInfo(stockTile.kernelFunc({ inputs: { x: cond }, attrs: { reps: [1, 28, 28, 1] }, backend: be }) as tf.TensorInfo));
const condf = tf.cast(cond, 'float32');
time('Tile stock f32', () => tf.engine().makeTensorFromTensorInfo(stockTile.kernelFunc({ inputs: { x: condf }, attrs: { reps: [1, 28, 28, 1] }, backend: be }) as tf.TensorInfo));

// conv1 dx
const dy = tf.randomNormal([128, 26, 26, 32]) as tf.Tensor4D;
const w1 = tf.randomNormal([3, 3, 1, 32]) as tf.Tensor4D;
const ref = conv2dBackpropInputViaConv(dy, w1, [128, 28, 28, 1], 1, 'valid');
time('conv1 dx via conv', () => conv2dBackpropInputViaConv(dy, w1, [128, 28, 28, 1], 1, 'valid'));
time('conv1 dx matmul only', () => tf.matMul(tf.reshape(dy, [-1, 32]), tf.reshape(w1, [9, 32]), false, true));
function col2imJs(col: tf.Tensor2D): tf.Tensor {
  const out = be.makeOutput([128, 28, 28, 1], 'float32');
  const o = be.typedArrayFromHeap(out) as Float32Array; const c = heap(col); o.fill(0);
  for (let b = 0; b < 128; b++) for (let i = 0; i < 26; i++) for (let j = 0; j < 26; j++) {
    const src = ((b * 26 + i) * 26 + j) * 9; const dst = (b * 28 + i) * 28 + j;
    o[dst] += c[src]!; o[dst + 1] += c[src + 1]!; o[dst + 2] += c[src + 2]!;
    o[dst + 28] += c[src + 3]!; o[dst + 29] += c[src + 4]!; o[dst + 30] += c[src + 5]!;
    o[dst + 56] += c[src + 6]!; o[dst + 57] += c[src + 7]!; o[dst + 58] += c[src + 8]!;
  }
  return tf.engine().makeTensorFromTensorInfo(out);
}
const a = time('conv1 dx matmul + JS col2im', () => col2imJs(tf.matMul(tf.reshape(dy, [-1, 32]), tf.reshape(w1, [9, 32]), false, true) as tf.Tensor2D));
function col2imOps(col: tf.Tensor): tf.Tensor {
  const c4 = tf.reshape(col, [128, 26, 26, 9]);
  const parts: tf.Tensor[] = [];
  for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) parts.push(tf.pad(tf.slice(c4, [0, 0, 0, r * 3 + k], [128, 26, 26, 1]), [[0, 0], [r, 2 - r], [k, 2 - k], [0, 0]]));
  return tf.addN(parts);
}
time('conv1 dx matmul + ops col2im', () => col2imOps(tf.matMul(tf.reshape(dy, [-1, 32]), tf.reshape(w1, [9, 32]), false, true)));
// col2im as conv: col [128,26,26,9] with fixed 0/1 filter [3,3,9,1], padded 2
const sel = tf.buffer([3, 3, 9, 1]); for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) sel.set(1, 2 - r, 2 - k, r * 3 + k, 0);
const selT = sel.toTensor() as tf.Tensor4D;
time('conv1 dx matmul + conv col2im', () => tf.conv2d(tf.reshape(tf.matMul(tf.reshape(dy, [-1, 32]), tf.reshape(w1, [9, 32]), false, true), [128, 26, 26, 9]) as tf.Tensor4D, selT, 1, [[0, 0], [2, 2], [2, 2], [0, 0]]));
console.log('check', tf.max(tf.abs(tf.sub(ref, col2imJs(tf.matMul(tf.reshape(dy, [-1, 32]), tf.reshape(w1, [9, 32]), false, true) as tf.Tensor2D)))).dataSync()[0]);
void a;

// bias sum
time('Sum [0,1,2]', () => tf.sum(dy, [0, 1, 2]));
time('matMul ones', () => tf.matMul(tf.ones([1, 86528]), tf.reshape(dy, [86528, 32])));
time('JS sum', () => { const v = heap(dy); const acc = new Float64Array(32); for (let i = 0; i < v.length; i += 32) for (let c = 0; c < 32; c++) acc[c] += v[i + c]!; return tf.tensor1d(Float32Array.from(acc)); });
time('sum reshape [M/32... ] two-stage', () => tf.sum(tf.sum(tf.reshape(dy, [2704, 32, 32]), 1), 0));

// conv1 dW
const x1 = tf.randomNormal([128, 28, 28, 1]) as tf.Tensor4D;
time('conv1 dW im2col (current)', () => conv2dBackpropFilterIm2col(x1, dy, [3, 3, 1, 32], 1, 'valid'));
time('conv1 dW batched [128,9,676]x[128,676,32]', () => {
  const xs = tf.reshape(x1, [128, 28, 28]);
  const taps: tf.Tensor[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) taps.push(tf.reshape(tf.slice(xs, [0, r, c], [128, 26, 26]), [128, 1, 676]));
  const p = tf.concat(taps, 1); // [128, 9, 676]
  return tf.sum(tf.matMul(p, tf.reshape(dy, [128, 676, 32])), 0);
});
time('conv1 dW dyT x P', () => {
  const xs = tf.reshape(x1, [128, 28, 28, 1]);
  const taps: tf.Tensor[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) taps.push(tf.slice(xs, [0, r, c, 0], [128, 26, 26, 1]));
  const p = tf.reshape(tf.concat(taps, 3), [86528, 9]);
  return tf.transpose(tf.matMul(tf.transpose(tf.reshape(dy, [86528, 32])), p));
});
// Chunked K: [9, M] split into 16 chunks, batched matmul
time('conv1 dW im2col chunked K (16 batches)', () => {
  const xs = tf.reshape(x1, [128, 28, 28]);
  const taps: tf.Tensor[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) taps.push(tf.reshape(tf.slice(xs, [0, r, c], [128, 26, 26]), [16, 1, 8 * 676]));
  const p = tf.concat(taps, 1); // [16, 9, 5408]
  return tf.sum(tf.matMul(p, tf.reshape(dy, [16, 8 * 676, 32])), 0);
});
