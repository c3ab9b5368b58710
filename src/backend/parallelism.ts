/**
 * `--threads auto` / `--workers auto`: how many threads pay off, measured at start-up instead of
 * assumed from the core count (issue 21: on a shared or oversubscribed VM, 2 cores do not mean 2
 * threads' worth of speed, and a kernel thread that is descheduled stalls every parallel kernel).
 *
 * The probe mimics what XNNPACK's thread pool does: n worker threads each run the same short
 * chunk of arithmetic (~1 ms), then meet at a barrier, many times over; the wall time of a round
 * is set by the slowest thread, as for a parallel kernel. Throughput with n threads relative to 1
 * thread is the speedup s(n) = n·t(1)/t(n); the rounds for each n alternate, so that load from
 * other processes hits every n alike, and the median is kept. chooseParallelism then takes the
 * largest n whose every added thread still brought at least MIN_GAIN_PER_THREAD of a core.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';

/** An added thread must add at least this much of one thread's throughput to be worth it. */
export const MIN_GAIN_PER_THREAD = 0.35;

export interface ParallelismProbe {
  /** The chosen thread count. */
  chosen: number;
  /** Median speedup s(n) for n = 1, 2, … (s(1) = 1). */
  speedups: number[];
  /** Wall time the probe took, ms. */
  ms: number;
  cores: number;
}

/** The thread count the speedups justify: see MIN_GAIN_PER_THREAD. */
export function chooseParallelism(speedups: readonly number[]): number {
  let chosen = 1;
  for (let n = 2; n <= speedups.length; n++) {
    const gain = (speedups[n - 1]! - speedups[chosen - 1]!) / (n - chosen);
    if (gain >= MIN_GAIN_PER_THREAD) chosen = n;
  }
  return chosen;
}

/** A thread-count option: `auto` or a positive integer (the range check is the caller's). */
export function parseParallelism(text: string, option: string): number | 'auto' {
  const t = text.trim();
  if (t === 'auto') return 'auto';
  if (!/^\d+$/.test(t) || Number(t) <= 0) throw new UserError(`${option} "${text}" must be auto or a positive integer, e.g. ${option} 2`);
  return Number(t);
}

/** One line for a run's provenance: what the probe measured and chose. */
export function describeProbe(p: ParallelismProbe, option: string): string {
  const s = p.speedups.map((v, i) => `${i + 1}: ${v.toFixed(2)}×`).join(', ');
  return `${option} auto → ${p.chosen} (start-up probe, ${Math.round(p.ms)} ms: throughput by thread count ${s}; ${p.cores} cores)`;
}

// Worker: waits for a new generation in ctl[0], works if its index < ctl[3], reports in ctl[1].
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.sab);
let seen = 0;
let sink = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  if (workerData.index >= Atomics.load(ctl, 3)) continue;
  const iters = Atomics.load(ctl, 2);
  let a = 1.0001;
  for (let i = 0; i < iters; i++) a = a * 1.0000001 + 1e-9;
  sink += a;
  Atomics.add(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}
if (sink === 42) console.log(sink);
`;

/** Work per chunk: ~1 ms of dependent multiply-adds on a current x86 core (a kernel's length). */
const ITERS = 500_000;
const BARRIERS = 8;
const ROUNDS = 3;

let cached: ParallelismProbe | undefined;

/**
 * Measures s(n) for n = 1 … maxThreads (default: the cores, at most 8) and chooses. Cached for
 * the process: the machine's state is sampled once, at start-up.
 */
export async function probeParallelism(maxThreads = Math.min(availableParallelism(), 8)): Promise<ParallelismProbe> {
  if (cached && cached.speedups.length === maxThreads) return cached;
  const started = performance.now();
  const cores = availableParallelism();
  if (maxThreads <= 1) return (cached = { chosen: 1, speedups: [1], ms: 0, cores });
  const sab = new SharedArrayBuffer(4 * 4);
  const ctl = new Int32Array(sab);
  const workers = Array.from({ length: maxThreads }, (_, index) => new Worker(WORKER_SOURCE, { eval: true, workerData: { sab, index } }));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => (w.once('online', () => resolve()), w.once('error', reject)))));
    let generation = 0;
    const barrier = (n: number): void => {
      Atomics.store(ctl, 1, 0);
      Atomics.store(ctl, 3, n);
      Atomics.store(ctl, 2, ITERS);
      Atomics.store(ctl, 0, ++generation);
      Atomics.notify(ctl, 0);
      for (let done = Atomics.load(ctl, 1); done < n; done = Atomics.load(ctl, 1)) Atomics.wait(ctl, 1, done, 100);
    };
    const timeOf = (n: number): number => {
      const t0 = performance.now();
      for (let b = 0; b < BARRIERS; b++) barrier(n);
      return performance.now() - t0;
    };
    for (let n = 1; n <= maxThreads; n++) barrier(maxThreads); // warm-up: every worker's loop compiled
    const times: number[][] = Array.from({ length: maxThreads }, () => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let n = 1; n <= maxThreads; n++) times[n - 1]!.push(timeOf(n));
    }
    const med = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const t1 = med(times[0]!);
    const speedups = times.map((t, i) => Math.round(((i + 1) * t1 * 100) / med(t)) / 100);
    return (cached = { chosen: chooseParallelism(speedups), speedups, ms: performance.now() - started, cores });
  } finally {
    Atomics.store(ctl, 0, -1);
    Atomics.notify(ctl, 0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
