/**
 * Interleaved A/B of the issue-21 kernel changes, in one process: the JS loops over the wasm heap
 * (old: the ReLU-family gradient AdvtestClipGrad and MaxPoolGrad as they were before the SIMD
 * module) against advtest's wasm SIMD kernels (new: src/backend/simd-kernels.wat), switched with
 * setSimdKernelsEnabled, alternating A, B, A, B… (which one goes first alternates too) so that
 * load from other processes hits both alike. Per run: wall and process CPU time (all threads);
 * prints min and median of each and the ratio old ÷ new (> 1: the new one is faster). On a
 * shared machine the CPU times and the ratios are what mean anything.
 *
 *   node --import tsx test/bench/ab-kernels.ts [--rounds 9] [--threads 1] [--kernels-only] [--activations]
 *
 * --activations compares instead the stock wasm Relu / Relu6 / ClipByValue (old) with advtest's
 * SIMD ones (new, wasm-activations.ts), everything else being advtest's, and adds a MobileNetV2
 * forward pass (224×224×3, batch 4, batch norms folded); it matters with --threads 2, the
 * pthread build, whose stock unary kernels are the slow ones.
 * Kernel rows time one kernel alone on the MNIST CNN's shapes at batch 128; task rows time the
 * input gradient, one PGD-10 batch and one training step (test/bench/setup.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { CLIP_GRAD_KERNEL } from '../../src/backend/lazy-grads.js';
import { initBackend } from '../../src/backend/select.js';
import { setSimdKernelsEnabled, simdKernelsUnavailable } from '../../src/backend/simd-kernels.js';
import { registerWasmGradKernels, unregisterWasmGradKernels } from '../../src/backend/wasm-kernels.js';
import { foldForInference } from '../../src/model/fold-batch-norm.js';
import { mobileNetV2 } from '../helpers/mobilenet.js';
import { median } from './report.js';
import { BATCH, benchSetup } from './setup.js';
import { argNumber } from './ab-tools.js';

const ROUNDS = argNumber('--rounds', 9);
const THREADS = argNumber('--threads', 1);

const ACTIVATIONS = process.argv.includes('--activations');

function use(version: 'old' | 'new'): void {
  if (!ACTIVATIONS) {
    setSimdKernelsEnabled(version === 'new');
    return;
  }
  unregisterWasmGradKernels();
  registerWasmGradKernels({ activations: version === 'new' });
}

interface Sample {
  wall: number;
  cpu: number;
}

async function measure(fn: () => void | Promise<void>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const ms = (v: number): string => v.toFixed(1).padStart(7);

async function ab(label: string, fn: () => void | Promise<void>): Promise<void> {
  const old: Sample[] = [];
  const neu: Sample[] = [];
  // Warm-up: V8 compiles the JS loops and tiers the wasm up from its baseline compiler.
  for (const version of ['old', 'new', 'old', 'new'] as const) {
    use(version);
    await fn();
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const version of r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      use(version);
      (version === 'old' ? old : neu).push(await measure(fn));
    }
  }
  use('new');
  const min = (s: Sample[], k: keyof Sample): number => Math.min(...s.map((x) => x[k]));
  const med = (s: Sample[], k: keyof Sample): number => median(s.map((x) => x[k]));
  const side = (s: Sample[]): string => `cpu min ${ms(min(s, 'cpu'))} med ${ms(med(s, 'cpu'))} | wall min ${ms(min(s, 'wall'))} med ${ms(med(s, 'wall'))}`;
  console.log(`\n${label}`);
  console.log(`  old ${ACTIVATIONS ? '(stock)' : '(JS)   '} ${side(old)} ms`);
  console.log(`  new (SIMD)    ${side(neu)} ms`);
  console.log(
    `  old/new       cpu min ${(min(old, 'cpu') / min(neu, 'cpu')).toFixed(2)}× med ${(med(old, 'cpu') / med(neu, 'cpu')).toFixed(2)}× | ` +
      `wall min ${(min(old, 'wall') / min(neu, 'wall')).toFixed(2)}× med ${(med(old, 'wall') / med(neu, 'wall')).toFixed(2)}×`,
  );
}

/** One MaxPoolGrad kernel call on the pooling of a [BATCH, size, size, ch] activation (2×2, stride 2, valid). */
function maxPoolGradCall(size: number, ch: number): { run: () => void; dispose: () => void } {
  const x = tf.randomNormal([BATCH, size, size, ch], 0, 1, 'float32', 3) as tf.Tensor4D;
  const y = tf.maxPool(x, 2, 2, 'valid');
  const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 4);
  const run = (): void => {
    tf.tidy(() => {
      tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' } as unknown as tf.NamedAttrMap);
    });
  };
  return { run, dispose: () => tf.dispose([x, y, dy]) };
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm', { threads: THREADS });
  const unavailable = simdKernelsUnavailable(tf.backend() as BackendWasm);
  if (unavailable !== undefined) throw new Error(`the SIMD kernels do not run here: ${unavailable}`);
  console.log(`A/B, ${ROUNDS} interleaved rounds, wasm ${backend.threads} thread(s); old = ${ACTIVATIONS ? 'stock Relu/Relu6/ClipByValue' : 'JS loops'}, new = SIMD kernels; ratio old ÷ new (> 1: new is faster)`);
  if (ACTIVATIONS) {
    const x = tf.randomNormal([BATCH, 26, 26, 32], 0, 1, 'float32', 1);
    await ab(`Relu [${BATCH},26,26,32]`, () => tf.tidy(() => void tf.relu(x)));
    await ab(`Relu6 [${BATCH},26,26,32]`, () => tf.tidy(() => void tf.relu6(x)));
    tf.dispose(x);
    const mobilenet = foldForInference(mobileNetV2({ seed: 0 })).model;
    const image = tf.randomUniform([4, 224, 224, 3], 0, 1, 'float32', 1);
    await ab('MobileNetV2 forward, batch 4', () => tf.tidy(() => void (mobilenet.predict(image) as tf.Tensor).dataSync()));
    tf.dispose(image);
    mobilenet.dispose();
  }
  if (ACTIVATIONS && process.argv.includes('--kernels-only')) return;
  const reluIn = tf.randomNormal([BATCH, 26, 26, 32], 0, 1, 'float32', 1);
  const dy = tf.randomNormal([BATCH, 26, 26, 32], 0, 1, 'float32', 2);
  await ab(`${CLIP_GRAD_KERNEL} (ReLU) [${BATCH},26,26,32]`, () => {
    tf.tidy(() => {
      tf.engine().runKernel(CLIP_GRAD_KERNEL, { dy, x: reluIn }, { lo: 0, hi: Infinity, relu6: true } as unknown as tf.NamedAttrMap);
    });
  });
  tf.dispose([reluIn, dy]);
  for (const [size, ch] of [
    [26, 32],
    [11, 64],
  ] as const) {
    const call = maxPoolGradCall(size, ch);
    await ab(`MaxPoolGrad 2×2/2 [${BATCH},${size},${size},${ch}]`, call.run);
    call.dispose();
  }
  if (process.argv.includes('--kernels-only')) return;
  const s = await benchSetup(BATCH);
  await ab(`input gradient (objectiveGradient, batch ${BATCH})`, () => s.inputGradient());
  await ab(`PGD-10, one batch of ${BATCH}`, () => s.pgd(BATCH));
  await ab(`training step (Adam, batch ${BATCH})`, () => s.trainStep());
  s.dispose();
}

await main();
