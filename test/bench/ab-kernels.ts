/**
 * Interleaved A/B of the issue-21 kernel changes, in one process: the previous (branchy) JS loop
 * of AdvtestClipGrad (ReLU gradient), registered as the wasm kernel in turn with the current one, alternating A, B, A, B… so that load from other processes hits
 * both alike. Per pair: wall and process CPU time; prints the medians and the ratio old ÷ new
 * (> 1: the new one is faster). On a shared machine only the ratios mean anything.
 *
 *   node --import tsx test/bench/ab-kernels.ts [--rounds 9] [--threads 1]
 *
 * The kernel row times the kernel alone on the MNIST CNN's largest shape (batch 128); task rows time the
 * input gradient, one PGD-10 batch and one training step (test/bench/setup.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { CLIP_GRAD_KERNEL } from '../../src/backend/lazy-grads.js';
import { initBackend } from '../../src/backend/select.js';
import { median } from './report.js';
import { BATCH, benchSetup } from './setup.js';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}
const ROUNDS = argNumber('--rounds', 9);
const THREADS = argNumber('--threads', 1);

// --- the kernel as it was before issue 21 (copied from git) ---

const oldClipGrad: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as BackendWasm;
  const x = inputs['x']!;
  const out = b.makeOutput(x.shape, 'float32');
  const o = b.typedArrayFromHeap(out) as Float32Array;
  const dy = b.typedArrayFromHeap(inputs['dy']!) as Float32Array;
  const xv = b.typedArrayFromHeap(x) as Float32Array;
  const { lo, hi, relu6 } = attrs as unknown as { lo: number; hi: number; relu6: boolean };
  if (!relu6) throw new Error('A/B covers the ReLU form only');
  for (let i = 0; i < o.length; i++) {
    const v = xv[i] as number;
    o[i] = v > lo && v <= hi ? (dy[i] as number) : v !== v ? NaN : (dy[i] as number) * 0;
  }
  return out;
};

// --- switching between the two ---------------------------------------------------------------

const current = new Map<string, tf.KernelConfig>();
function use(version: 'old' | 'new'): void {
  for (const [name, oldFunc] of [[CLIP_GRAD_KERNEL, oldClipGrad]] as const) {
    if (!current.has(name)) current.set(name, tf.getKernel(name, 'wasm')!);
    const config = current.get(name)!;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(version === 'new' ? config : { ...config, kernelFunc: oldFunc });
  }
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

async function ab(label: string, fn: () => void | Promise<void>): Promise<void> {
  const old: Sample[] = [];
  const neu: Sample[] = [];
  use('old');
  await fn();
  use('new');
  await fn();
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so that neither always follows the other.
    for (const version of r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      use(version);
      (version === 'old' ? old : neu).push(await measure(fn));
    }
  }
  use('new');
  const m = (s: Sample[], k: keyof Sample): number => median(s.map((x) => x[k]));
  console.log(
    `${label.padEnd(44)} old ${m(old, 'wall').toFixed(1).padStart(7)} ms wall ${m(old, 'cpu').toFixed(1).padStart(7)} ms cpu | ` +
      `new ${m(neu, 'wall').toFixed(1).padStart(7)} ms wall ${m(neu, 'cpu').toFixed(1).padStart(7)} ms cpu | ` +
      `old/new wall ${(m(old, 'wall') / m(neu, 'wall')).toFixed(2)}×, cpu ${(m(old, 'cpu') / m(neu, 'cpu')).toFixed(2)}× ` +
      `(median ratio of pairs: ${median(old.map((o, i) => o.cpu / neu[i]!.cpu)).toFixed(2)}× cpu)`,
  );
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm', { threads: THREADS });
  console.log(`A/B, ${ROUNDS} interleaved rounds, wasm ${backend.threads} thread(s); ratio old ÷ new (> 1: new is faster)`);
  const reluIn = tf.randomNormal([BATCH, 26, 26, 32], 0, 1, 'float32', 1);
  const dy = tf.randomNormal([BATCH, 26, 26, 32], 0, 1, 'float32', 2);
  await ab('AdvtestClipGrad (ReLU) [128,26,26,32]', () => {
    tf.tidy(() => {
      tf.engine().runKernel(CLIP_GRAD_KERNEL, { dy, x: reluIn }, { lo: 0, hi: Infinity, relu6: true } as unknown as tf.NamedAttrMap);
    });
  });
  const s = await benchSetup(BATCH);
  await ab('input gradient (objectiveGradient, batch 128)', () => s.inputGradient());
  await ab('PGD-10, one batch of 128', () => s.pgd(BATCH));
  await ab('training step (Adam, batch 128)', () => s.trainStep());
  s.dispose();
  tf.dispose([reluIn, dy]);
}

await main();
