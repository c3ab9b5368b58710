/**
 * Where the time goes: per-kernel self time (see kernel-profile.ts) of the mnist-cnn's forward
 * pass, input gradient, one PGD step and one Adam training step on wasm, batch 128, fixture
 * weights, through the library's own code paths.
 *
 *   node --import tsx test/bench/profile.ts [--runs N] [--stock] [--top K]
 *
 * --stock profiles the stock wasm kernels (our replacements unregistered; training then fails).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.js';
import { unregisterWasmGradKernels } from '../../src/backend/wasm-kernels.js';
import { byKernelName, KernelProfiler, type KernelStat } from './kernel-profile.js';
import { BATCH, benchSetup, type BenchSetup } from './setup.js';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

const RUNS = argNumber('--runs', 5);
const TOP = argNumber('--top', 14);

type Task = 'forward' | 'input gradient' | 'PGD-10, one batch' | 'training step';
const TASKS: Task[] = ['forward', 'input gradient', 'PGD-10, one batch', 'training step'];

function print(task: Task, wallMs: number, stats: KernelStat[]): void {
  const total = stats.reduce((a, s) => a + s.selfMs, 0);
  console.log(`\n${task}: ${(wallMs / RUNS).toFixed(1)} ms per call wall, ${(total / RUNS).toFixed(1)} ms in kernels`);
  const line = (s: KernelStat) =>
    `  ${(s.selfMs / RUNS).toFixed(2).padStart(8)} ms ${((100 * s.selfMs) / total).toFixed(1).padStart(5)}%  ×${String(s.calls / RUNS).padEnd(4)} ${s.key}`;
  console.log(' by kernel:');
  byKernelName(stats).slice(0, TOP).forEach((s) => console.log(line(s)));
  console.log(' by kernel and shape:');
  stats.slice(0, TOP).forEach((s) => console.log(line(s)));
}

async function main(): Promise<void> {
  await initBackend('wasm');
  if (process.argv.includes('--stock')) unregisterWasmGradKernels();
  const s: BenchSetup = await benchSetup(BATCH);
  const run: Record<Task, () => void | Promise<void>> = {
    forward: () => s.forward(),
    'input gradient': () => s.inputGradient(),
    'PGD-10, one batch': () => s.pgd(BATCH),
    'training step': () => s.trainStep(),
  };
  const profiler = new KernelProfiler();
  profiler.start();
  try {
    for (const task of TASKS) {
      try {
        await run[task]();
        await run[task]();
      } catch (err) {
        console.log(`\n${task}: fails (${(err as Error).message.split('\n')[0]})`);
        continue;
      }
      profiler.reset();
      const t0 = performance.now();
      for (let r = 0; r < RUNS; r++) await profiler.record(run[task]);
      print(task, performance.now() - t0, profiler.results());
    }
  } finally {
    profiler.stop();
    s.dispose();
  }
  console.log(`\ntensors alive at the end: ${tf.memory().numTensors}`);
}

await main();
