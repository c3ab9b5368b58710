/**
 * Where the time goes: per-kernel self time (see kernel-profile.ts) of the mnist-cnn's forward
 * pass, input gradient, one PGD step and one Adam training step on wasm, batch 128, fixture
 * weights, through the library's own code paths; then, for the convolutions and matMuls, their
 * arithmetic (flops.ts) and the GFLOP/s they achieve, and the share of the time they take: the
 * part of the time that only a faster GEMM could shorten (see ceiling.ts for how fast it can be).
 *
 *   node --import tsx test/bench/profile.ts [--runs N] [--stock] [--top K] [--threads T]
 *
 * --stock profiles the stock wasm kernels (our replacements unregistered; training then fails).
 * --threads: wasm kernel threads (default: the backend's default, every core up to its maximum).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.js';
import { unregisterWasmGradKernels } from '../../src/backend/wasm-kernels.js';
import { gflops } from './flops.js';
import { byKernelName, KernelProfiler, type KernelStat } from './kernel-profile.js';
import { BATCH, benchSetup, type BenchSetup } from './setup.js';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

const RUNS = argNumber('--runs', 5);
const TOP = argNumber('--top', 14);
const THREADS = argNumber('--threads', 0);

type Task = 'forward' | 'input gradient' | 'PGD-10, one batch' | 'training step';
const TASKS: Task[] = ['forward', 'input gradient', 'PGD-10, one batch', 'training step'];

function print(task: Task, wallMs: number, callCpuMs: number, stats: KernelStat[]): void {
  const total = stats.reduce((a, s) => a + s.selfMs, 0);
  const cpu = stats.reduce((a, s) => a + s.selfCpuMs, 0);
  console.log(
    `\n${task}: ${(wallMs / RUNS).toFixed(1)} ms per call wall (${(callCpuMs / RUNS).toFixed(1)} ms of process CPU), ${(total / RUNS).toFixed(1)} ms in kernels (${(cpu / RUNS).toFixed(1)} ms of process CPU)`,
  );
  const line = (s: KernelStat) =>
    `  ${(s.selfMs / RUNS).toFixed(2).padStart(8)} ms ${((100 * s.selfMs) / total).toFixed(1).padStart(5)}%  ×${String(s.calls / RUNS).padEnd(4)} ${s.key}`;
  console.log(' by kernel:');
  byKernelName(stats).slice(0, TOP).forEach((s) => console.log(line(s)));
  console.log(' by kernel and shape:');
  stats.slice(0, TOP).forEach((s) => console.log(line(s)));
  printCompute(stats);
}

/**
 * The convolutions and matMuls with their arithmetic and achieved rate, by wall and by process CPU
 * time (with one wasm thread, CPU time is the kernel's own, not inflated by waiting for a core).
 * A kernel that ran counted kernels inside it (KernelStat.nestedWork: the gradient kernels, our
 * transposing BatchMatMul) is timed inclusively and left out of the totals, which count its
 * children.
 */
function printCompute(stats: KernelStat[]): void {
  const counted = stats.filter((s) => s.work !== undefined);
  if (counted.length === 0) return;
  const selfWall = stats.reduce((a, s) => a + s.selfMs, 0);
  const selfCpu = stats.reduce((a, s) => a + s.selfCpuMs, 0);
  console.log(' compute (FLOPs = 2 × multiply-adds, taps on the zero padding included as XNNPACK does them; useful = the share without them):');
  console.log(`  ${'ms/call'.padStart(8)} ${'CPU ms'.padStart(8)} ${'share'.padStart(7)} ${'MFLOP'.padStart(7)} ${'useful'.padStart(6)} ${'GFLOP/s'.padStart(8)} ${'(CPU)'.padStart(7)}  kernel`);
  let wall = 0;
  let cpu = 0;
  let macs = 0;
  for (const s of counted) {
    const w = s.work!;
    const ms = s.nestedWork ? s.totalMs : s.selfMs;
    const cpuMs = s.nestedWork ? s.totalCpuMs : s.selfCpuMs;
    const callMacs = w.macs * s.calls;
    if (!s.nestedWork) {
      wall += s.selfMs;
      cpu += s.selfCpuMs;
      macs += callMacs;
    }
    const share = s.nestedWork ? '(incl.)' : `${((100 * s.selfMs) / selfWall).toFixed(1)}%`;
    console.log(
      `  ${(ms / RUNS).toFixed(2).padStart(8)} ${(cpuMs / RUNS).toFixed(2).padStart(8)} ${share.padStart(7)} ${((2 * w.macs) / 1e6).toFixed(1).padStart(7)} ${`${((100 * w.usefulMacs) / w.macs).toFixed(0)}%`.padStart(6)} ${gflops(callMacs, ms).toFixed(1).padStart(8)} ${gflops(callMacs, cpuMs).toFixed(1).padStart(7)}  ×${s.calls / RUNS} ${s.key}`,
    );
  }
  console.log(
    `  convolutions and matMuls: ${((100 * wall) / selfWall).toFixed(1)}% of kernel wall time, ${((100 * cpu) / selfCpu).toFixed(1)}% of kernel CPU time; ${(wall / RUNS).toFixed(1)} ms (${(cpu / RUNS).toFixed(1)} ms CPU) per call at ${gflops(macs, wall).toFixed(1)} GFLOP/s (${gflops(macs, cpu).toFixed(1)} per CPU second); "(incl.)": kernels whose arithmetic runs in the counted kernels inside them, timed with those`,
  );
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm', THREADS > 0 ? { threads: THREADS } : {});
  console.log(`wasm backend, ${backend.threads ?? '?'} thread(s); ${RUNS} runs per task`);
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
      const c0 = process.cpuUsage();
      for (let r = 0; r < RUNS; r++) await profiler.record(run[task]);
      const c = process.cpuUsage(c0);
      print(task, performance.now() - t0, (c.user + c.system) / 1000, profiler.results());
    }
  } finally {
    profiler.stop();
    s.dispose();
  }
  console.log(`\ntensors alive at the end: ${tf.memory().numTensors}`);
}

await main();
