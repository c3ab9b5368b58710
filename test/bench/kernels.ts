/**
 * Wasm gradient-kernel benchmark: the MNIST CNN (conv 32·3×3 relu → maxpool 2 → conv 64·3×3 relu
 * → maxpool 2 → dense 128 relu → dense 10) at batch 128, random weights, on the wasm backend.
 * Times forward, input gradient (tf.grad of softmax cross-entropy w.r.t. the input) and one Adam
 * step, before (the stock wasm kernels) and after `registerWasmGradKernels()`; then the individual
 * gradient kernels of the two conv layers.
 *
 *   npx tsx test/bench/kernels.ts [--runs N] [--batch B]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  conv2dBackpropFilterIm2col,
  conv2dBackpropFilterViaConv,
  conv2dBackpropInputViaConv,
  registerWasmGradKernels,
} from '../../src/backend/wasm-kernels.js';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

const RUNS = Math.max(5, argNumber('--runs', 7));
const WARMUP = 2;
const BATCH = argNumber('--batch', 128);

type Result = { median: number; min: number } | { error: string };

/** Median/min wall time (ms) of `fn`, which must block until its result is on the host. */
function bench(fn: () => void, runs = RUNS): Result {
  try {
    for (let i = 0; i < WARMUP; i++) fn();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      fn();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(times.length / 2)] ?? NaN, min: times[0] ?? NaN };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

function fmt(r: Result | undefined): string {
  if (r === undefined) return '-';
  if ('error' in r) return 'fails';
  return `${r.median.toFixed(1)} ms`;
}

function speedup(before: Result | undefined, after: Result | undefined): string {
  if (before === undefined || after === undefined || 'error' in after) return '';
  if ('error' in before) return 'now works';
  return `${(before.median / after.median).toFixed(1)}x`;
}

function buildCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

function modelBenchmarks(model: tf.Sequential, x: tf.Tensor4D, labels: tf.Tensor2D): Record<string, Result> {
  const logits = (input: tf.Tensor): tf.Tensor => model.apply(input, { training: true }) as tf.Tensor;
  const loss = (input: tf.Tensor): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, logits(input)) as tf.Scalar;
  const inputGrad = tf.grad((input: tf.Tensor) => loss(input));
  const optimizer = tf.train.adam(1e-3);
  const out: Record<string, Result> = {};
  out['forward'] = bench(() => {
    tf.tidy(() => logits(x).dataSync());
  });
  out['input gradient'] = bench(() => {
    tf.tidy(() => inputGrad(x).dataSync());
  });
  out['Adam training step'] = bench(() => {
    tf.tidy(() => {
      const l = optimizer.minimize(() => loss(x), true);
      l?.dataSync();
    });
  });
  optimizer.dispose();
  return out;
}

type Shape4 = [number, number, number, number];
interface ConvCase {
  name: string;
  x: Shape4;
  w: Shape4;
}

function kernelBenchmarks(cases: ConvCase[], stockDx: tf.KernelConfig | undefined): Array<[string, Result, Result | undefined]> {
  const rows: Array<[string, Result, Result | undefined]> = [];
  for (const c of cases) {
    const [x, w, dy] = tf.tidy(() => {
      const xx = tf.randomNormal(c.x) as tf.Tensor4D;
      const ww = tf.randomNormal(c.w) as tf.Tensor4D;
      const y = tf.conv2d(xx, ww, 1, 'valid');
      return [xx, ww, tf.randomNormal(y.shape) as tf.Tensor4D];
    });
    const run = (f: () => tf.Tensor): Result =>
      bench(() => {
        tf.tidy(() => f().dataSync());
      });
    rows.push([`${c.name} forward conv2d (reference)`, run(() => tf.conv2d(x, w, 1, 'valid')), undefined]);
    rows.push([
      `${c.name} Conv2DBackpropInput`,
      // the stock kernel, called directly (ours is registered by now)
      stockDx === undefined
        ? { error: 'none' }
        : run(() => {
            const backend = tf.backend();
            const info = stockDx.kernelFunc({
              inputs: { dy, filter: w },
              attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: c.x },
              backend,
            }) as tf.TensorInfo;
            return tf.engine().makeTensorFromTensorInfo(info);
          }),
      run(() => conv2dBackpropInputViaConv(dy, w, c.x, 1, 'valid')),
    ]);
    rows.push([
      `${c.name} Conv2DBackpropFilter`,
      run(() => conv2dBackpropFilterIm2col(x, dy, c.w, 1, 'valid')),
      run(() => conv2dBackpropFilterViaConv(x, dy, c.w, 1, 'valid')),
    ]);
    tf.dispose([x, w, dy]);
  }
  return rows;
}

function table(header: [string, string, string, string], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    '| ' + cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(header), sep, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  await tf.ready();
  const stockDx = tf.getKernel('Conv2DBackpropInput', 'wasm');
  console.log(
    `tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, ` +
      `threads ${String(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'))}, batch ${BATCH}, median of ${RUNS} runs after ${WARMUP} warm-up`,
  );

  const model = buildCnn();
  const x = tf.randomUniform([BATCH, 28, 28, 1]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32') as tf.Tensor1D, 10).toFloat() as tf.Tensor2D;

  const before = modelBenchmarks(model, x, labels);
  const trainError = before['Adam training step'];
  registerWasmGradKernels();
  const after = modelBenchmarks(model, x, labels);

  console.log('\nCNN on wasm, batch ' + BATCH);
  console.log(
    table(
      ['', 'stock wasm kernels', 'registerWasmGradKernels()', 'speed-up'],
      Object.keys(after).map((k) => [k, fmt(before[k]), fmt(after[k]), speedup(before[k], after[k])]),
    ),
  );
  if (trainError !== undefined && 'error' in trainError) console.log(`(stock training step: ${trainError.error})`);

  const kernelRows = kernelBenchmarks([
    { name: 'conv1 [B,28,28,1]*[3,3,1,32]', x: [BATCH, 28, 28, 1], w: [3, 3, 1, 32] },
    { name: 'conv2 [B,13,13,32]*[3,3,32,64]', x: [BATCH, 13, 13, 32], w: [3, 3, 32, 64] },
  ], stockDx);
  console.log('\nIndividual kernels (conv layers of the CNN)');
  console.log(
    table(
      ['kernel', 'stock (filter: im2col+matMul)', 'replacement', 'speed-up'],
      kernelRows.map(([name, b, a]) => [name, fmt(b), fmt(a), speedup(b, a)]),
    ),
  );

  tf.dispose([x, labels]);
  model.dispose();
  console.log(`\nnumTensors at exit: ${tf.memory().numTensors}`);
}

await main();
