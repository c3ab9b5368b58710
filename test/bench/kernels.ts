/**
 * Wasm gradient-kernel benchmark: the MNIST CNN (conv 32·3×3 relu → maxpool 2 → conv 64·3×3 relu
 * → maxpool 2 → dense 128 relu → dense 10, built with tf.sequential + tf.layers, random weights)
 * at batch 128 on the wasm backend. Times forward, input gradient (tf.grad of softmax
 * cross-entropy w.r.t. the input) and one Adam step (optimizer.minimize) with the stock wasm
 * kernels, with only the two conv-gradient kernels replaced, and with every replacement
 * (`registerWasmGradKernels()`), interleaving the three configurations run by run so that load
 * from other processes hits them alike. Then times the individual kernels.
 *
 *   npx tsx test/bench/kernels.ts [--runs N] [--batch B]
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-wasm';
import {
  conv2dBackpropFilterIm2col,
  conv2dBackpropFilterViaConv,
  conv2dBackpropInputViaConv,
  registerWasmGradKernels,
  unregisterWasmGradKernels,
} from '../../src/backend/wasm-kernels.js';
import { conv2dBackpropFilterDirect } from '../../src/backend/wasm-im2col.js';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

const RUNS = Math.max(5, argNumber('--runs', 7));
const WARMUP = 2;
const BATCH = argNumber('--batch', 128);

type Result = { median: number; min: number } | { error: string };

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

function summarise(times: number[]): Result {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN };
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

interface KernelConfigSet {
  name: string;
  install: () => void;
}

const CONFIGS: KernelConfigSet[] = [
  { name: 'stock wasm kernels', install: () => unregisterWasmGradKernels() },
  {
    name: '+ conv grads only',
    install: () => {
      unregisterWasmGradKernels();
      registerWasmGradKernels({ maxPoolGrad: false, matMul: false, aliases: false, tile: false, sum: false });
    },
  },
  { name: '+ all (default)', install: () => registerWasmGradKernels() },
];

const TASKS = ['forward', 'input gradient', 'Adam training step'] as const;
type Task = (typeof TASKS)[number];

/** results[config][task] */
function modelBenchmarks(model: tf.Sequential, x: tf.Tensor4D, labels: tf.Tensor2D): Array<Record<Task, Result>> {
  const logits = (input: tf.Tensor): tf.Tensor => model.apply(input) as tf.Tensor;
  const loss = (input: tf.Tensor): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, logits(input)) as tf.Scalar;
  const inputGrad = tf.grad((input: tf.Tensor) => loss(input));
  const optimizers = CONFIGS.map(() => tf.train.adam(1e-3));
  const run = (task: Task, config: number): void => {
    // (tidy callbacks return void: tidy would walk a returned TypedArray element by element)
    tf.tidy(() => {
      if (task === 'forward') logits(x).dataSync();
      else if (task === 'input gradient') inputGrad(x).dataSync();
      else optimizers[config]?.minimize(() => loss(x), true)?.dataSync();
    });
  };
  const errors = CONFIGS.map(() => new Map<Task, string>());
  const times = CONFIGS.map(() => new Map<Task, number[]>(TASKS.map((t) => [t, []])));
  for (let r = -WARMUP; r < RUNS; r++) {
    CONFIGS.forEach((config, c) => {
      config.install();
      for (const task of TASKS) {
        if (errors[c]?.has(task)) continue;
        try {
          const t0 = performance.now();
          run(task, c);
          if (r >= 0) times[c]?.get(task)?.push(performance.now() - t0);
        } catch (err) {
          errors[c]?.set(task, (err as Error).message.split('\n')[0] ?? String(err));
        }
      }
    });
  }
  optimizers.forEach((o) => o.dispose());
  registerWasmGradKernels();
  return CONFIGS.map((_, c) =>
    Object.fromEntries(
      TASKS.map((task) => {
        const error = errors[c]?.get(task);
        return [task, error !== undefined ? { error } : summarise(times[c]?.get(task) ?? [])];
      }),
    ) as Record<Task, Result>,
  );
}

type Shape4 = [number, number, number, number];

/** Calls a (stock) kernel directly, bypassing whatever is registered now. */
function callKernel(config: tf.KernelConfig, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.Tensor {
  const info = config.kernelFunc({ inputs, attrs, backend: tf.backend() }) as tf.TensorInfo;
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}

type Row = [string, Result | undefined, Result | undefined];
type Producer = (() => tf.Tensor) | undefined;

/**
 * Times two tensor producers (either may be absent), alternating them run by run; each time
 * includes the read-back. `undefined` in, `undefined` out.
 */
function timePair(a: Producer, b: Producer): [Result | undefined, Result | undefined] {
  const fns = [a, b];
  const times: number[][] = [[], []];
  const errors: Array<string | undefined> = [undefined, undefined];
  for (let r = -WARMUP; r < RUNS; r++) {
    fns.forEach((f, i) => {
      if (f === undefined || errors[i] !== undefined) return;
      try {
        const t0 = performance.now();
        tf.tidy(() => {
          f().dataSync();
        });
        if (r >= 0) times[i]?.push(performance.now() - t0);
      } catch (err) {
        errors[i] = (err as Error).message;
      }
    });
  }
  const result = (i: number): Result | undefined => {
    if (fns[i] === undefined) return undefined;
    const error = errors[i];
    return error !== undefined ? { error } : summarise(times[i] ?? []);
  };
  return [result(0), result(1)];
}

function kernelBenchmarks(stock: Map<string, tf.KernelConfig | undefined>): Row[] {
  const rows: Row[] = [];
  const stockKernel = (name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): Producer => {
    const config = stock.get(name);
    return config === undefined ? undefined : () => callKernel(config, inputs, attrs);
  };
  const ourKernel = (name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): Producer => {
    const config = tf.getKernel(name, 'wasm'); // the replacement, registered by now
    return config === undefined ? undefined : () => callKernel(config, inputs, attrs);
  };

  const convs: Array<{ name: string; x: Shape4; w: Shape4 }> = [
    { name: 'conv1 x[B,28,28,1] w[3,3,1,32]', x: [BATCH, 28, 28, 1], w: [3, 3, 1, 32] },
    { name: 'conv2 x[B,13,13,32] w[3,3,32,64]', x: [BATCH, 13, 13, 32], w: [3, 3, 32, 64] },
  ];
  for (const c of convs) {
    const [x, w, dy] = tf.tidy(() => {
      const xx = tf.randomNormal(c.x) as tf.Tensor4D;
      const ww = tf.randomNormal(c.w) as tf.Tensor4D;
      const y = tf.conv2d(xx, ww, 1, 'valid');
      return [xx, ww, tf.randomNormal(y.shape) as tf.Tensor4D];
    });
    const dxAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: c.x };
    rows.push([`${c.name}: Conv2D (forward, for scale)`, ...timePair(() => tf.conv2d(x, w, 1, 'valid'), undefined)]);
    rows.push([
      `${c.name}: Conv2DBackpropInput (auto)`,
      ...timePair(stockKernel('Conv2DBackpropInput', { dy, filter: w }, dxAttrs), ourKernel('Conv2DBackpropInput', { dy, filter: w }, dxAttrs)),
    ]);
    rows.push([`  - as one conv`, undefined, timePair(() => conv2dBackpropInputViaConv(dy, w, c.x, 1, 'valid'), undefined)[0]]);
    const dwAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: c.w };
    rows.push([
      `${c.name}: Conv2DBackpropFilter (auto)`,
      { error: 'no stock kernel' },
      timePair(ourKernel('Conv2DBackpropFilter', { x, dy }, dwAttrs), undefined)[0],
    ]);
    const [asConv, asIm2col] = timePair(
      () => conv2dBackpropFilterViaConv(x, dy, c.w, 1, 'valid'),
      () => conv2dBackpropFilterIm2col(x, dy, c.w, 1, 'valid'),
    );
    rows.push([`  - as one dilated conv`, undefined, asConv]);
    rows.push([`  - as im2col + matMul`, undefined, asIm2col]);
    const backend = tf.backend() as BackendWasm;
    const info = tf.backend_util.computeConv2DInfo(c.x, c.w, 1, 1, 'valid');
    const direct = (): tf.Tensor => tf.engine().makeTensorFromTensorInfo(conv2dBackpropFilterDirect(backend, x, dy, info)!);
    rows.push([`  - direct (SIMD, few input channels)`, undefined, c.x[3] <= 4 ? timePair(direct, undefined)[0] : undefined]);
    tf.dispose([x, w, dy]);
  }
  for (const shape of [
    [BATCH, 26, 26, 32],
    [BATCH, 11, 11, 64],
  ] as Shape4[]) {
    const [x, y, dy] = tf.tidy(() => {
      const xx = tf.relu(tf.randomNormal(shape)) as tf.Tensor4D;
      const yy = tf.maxPool(xx, 2, 2, 'valid');
      return [xx, yy, tf.randomNormal(yy.shape) as tf.Tensor4D];
    });
    const inputs = { dy, input: x, output: y };
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
    rows.push([
      `MaxPoolGrad x[${shape.join(',')}] 2x2/2`,
      ...timePair(stockKernel('MaxPoolGrad', inputs, attrs), ourKernel('MaxPoolGrad', inputs, attrs)),
    ]);
    tf.dispose([x, y, dy]);
  }
  for (const [name, aShape, bShape, ta, tb] of [
    ['dense1 dx = dy[B,128] W[1600,128]^T', [1, BATCH, 128], [1, 1600, 128], false, true],
    ['dense1 dW = x[B,1600]^T dy[B,128]', [1, BATCH, 1600], [1, BATCH, 128], true, false],
  ] as Array<[string, number[], number[], boolean, boolean]>) {
    const [a, b] = [tf.randomNormal(aShape), tf.randomNormal(bShape)];
    const attrs = { transposeA: ta, transposeB: tb };
    rows.push([
      `BatchMatMul ${name}`,
      ...timePair(stockKernel('BatchMatMul', { a, b }, attrs), ourKernel('BatchMatMul', { a, b }, attrs)),
    ]);
    tf.dispose([a, b]);
  }
  return rows;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    '| ' + cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(header), sep, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  await tf.ready();
  const stock = new Map<string, tf.KernelConfig | undefined>(
    ['Conv2DBackpropInput', 'MaxPoolGrad', 'BatchMatMul'].map((k) => [k, tf.getKernel(k, 'wasm')]),
  );
  console.log(
    `tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, ` +
      `threads ${String(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'))}, batch ${BATCH}, ` +
      `median of ${RUNS} runs after ${WARMUP} warm-up`,
  );

  const model = buildCnn();
  const x = tf.randomUniform([BATCH, 28, 28, 1]) as tf.Tensor4D;
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32') as tf.Tensor1D, 10).toFloat()) as tf.Tensor2D;
  const tensorsBefore = tf.memory().numTensors;

  const results = modelBenchmarks(model, x, labels);
  const leaked = tf.memory().numTensors - tensorsBefore;
  const stockRun = results[0] as Record<Task, Result>;
  const allRun = results[results.length - 1] as Record<Task, Result>;

  console.log(`\nMNIST CNN on wasm, batch ${BATCH} (wall time incl. read-back)`);
  console.log(
    table(
      ['', ...CONFIGS.map((c) => c.name), 'speed-up'],
      TASKS.map((task) => [task, ...results.map((r) => fmt(r[task])), speedup(stockRun[task], allRun[task])]),
    ),
  );
  const trainError = stockRun['Adam training step'];
  if ('error' in trainError) console.log(`stock training step: ${trainError.error}`);

  const kernelRows = kernelBenchmarks(stock);
  console.log(`\nIndividual kernels, batch ${BATCH}`);
  console.log(
    table(
      ['kernel', 'stock', 'replacement', 'speed-up'],
      kernelRows.map(([name, b, a]) => [name, fmt(b), fmt(a), speedup(b, a)]),
    ),
  );

  tf.dispose([x, labels]);
  model.dispose();
  console.log(
    `\ntensors left by the model benchmarks: ${leaked}` +
      (leaked > 0 && 'error' in trainError
        ? ' (tfjs keeps the tape of a backward pass that threw — here the failed stock training step)'
        : ''),
  );
}

await main();
