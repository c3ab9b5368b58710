/**
 * `npm run bench`: the mnist-cnn (committed fixture weights) at batch 128 on wasm, side by side
 * with PyTorch on the same weights and digits when Debian's python3-torch is installed.
 *
 *   node --import tsx test/bench/run.ts [--runs N] [--json FILE] [--quick] [--stock]
 *                                       [--workers N] [--threads N] [--torch-threads 2,1] [--compare FILE]
 *                                       [--only mnist|mobilenet] [--torch-malloc kept|default]
 *
 * Measures (median over --runs timed runs after one warm-up; every setup takes its turn within
 * each run, so that load from other processes on a shared machine hits them alike):
 *   forward            the classifier's logits for 128 digits
 *   input gradient     objectiveGradient (summed CE) for 128 digits
 *   PGD-10             runAttack(pgd({ steps: 10 })), ε = 0.3, over --pgd-images digits in batches of 128
 *   PGD-10 evaluate    evaluate() with the same attack: in this thread, and on --workers threads
 *   training step      trainModel: one Adam step on 128 digits (a separate copy of the model)
 * Ours uses --threads wasm kernel threads in this process (default: one per core; 1 = the
 * single-threaded build, the "before" of the threading work); each --workers thread uses 1.
 * PyTorch runs once per --torch-threads entry (default 2,1: the issue's 2 threads, and 1 thread,
 * which is faster than 2 when other processes keep the cores busy); the ratio columns compare
 * with each, and the JSON's `ratio` with the fastest. --torch-malloc (default kept): how PyTorch's
 * process allocates (torch.ts, TorchMalloc); `default` is glibc's, whose page faults slow it 2–3×
 * on these VMs.
 * --stock also times our code with the stock tfjs wasm kernels (unregisterWasmGradKernels), the
 * "before" of the kernel work. --quick: 3 runs and PGD over 256 digits.
 * Writes the results as JSON (--json, default test-artifacts/bench.json); --compare FILE prints
 * the change against an earlier JSON.
 * To tell a slow run from a slow machine (issue 21) it also prints and records: every run's wall
 * and process CPU time on both sides, min / median / spread, the CPU-time ratio, the load average
 * at start and end, the steal / idle / busy shares of /proc/stat per run and overall, the CPU's
 * SIMD flags and both sides' thread counts (machine.ts).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { pgd } from '../../attacks/pgd.js';
import { defaultThreads, initBackend } from '../../src/backend/select.js';
import { registerWasmGradKernels, unregisterWasmGradKernels } from '../../src/backend/wasm-kernels.js';
import { WorkerPool } from '../../src/run/worker-pool.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { BatchRecord } from '../../src/harness/journal.js';
import type { Report } from '../../src/harness/report-types.js';
import { cpuShares, describeCpu, sampleCpu, type CpuShares } from './machine.js';
import { renderComparison, renderRuns, renderTable, timing, type BenchReport, type MeasureResult, type Timing } from './report.js';
import { benchMobileNet, MOBILENET_BATCH, renderMobileNet } from './mobilenet.js';
import { BATCH, benchSetup, FIXTURE_MODEL, PGD_EPS, PGD_STEPS } from './setup.js';
import { exportForTorch, SYSTEM_PYTHON, TORCH_MALLOC_ENV, torchMallocOption, torchUnavailable, TorchServer, type TorchTask } from './torch.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function count(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${name} takes a positive integer, got ${raw}`);
  return v;
}

const QUICK = process.argv.includes('--quick');
const RUNS = count('--runs', QUICK ? 3 : 5);
const WARMUP = 1;
const PGD_IMAGES = count('--pgd-images', QUICK ? 256 : 1000);
if (PGD_IMAGES < BATCH) throw new Error(`--pgd-images must be at least the batch, ${BATCH}`);
const WORKERS = count('--workers', 2);
const THREADS = count('--threads', defaultThreads());
const THREAD_LABEL = `${THREADS} thread${THREADS === 1 ? '' : 's'}`;
const TORCH_THREADS = (option('--torch-threads') ?? '2,1').split(',').map((v) => {
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--torch-threads takes a list of positive integers, got ${v}`);
  return n;
});
const TORCH_MALLOC = torchMallocOption(process.argv);
const JSON_FILE = option('--json') ?? 'test-artifacts/bench.json';
const COMPARE = option('--compare');
const WITH_STOCK = process.argv.includes('--stock');
const STEP_SIZE = (2.5 * PGD_EPS) / PGD_STEPS;
/** --only mnist | mobilenet: one model's rows (default both; the MobileNetV2 rows are test/bench/mobilenet.ts). */
const ONLY = option('--only');
if (ONLY !== undefined && ONLY !== 'mnist' && ONLY !== 'mobilenet') throw new Error(`--only takes mnist or mobilenet, got ${ONLY}`);

/** The MobileNetV2 rows: printed, and written to <json>-mobilenet.json. */
async function mobileNetRows(): Promise<void> {
  const backend = await initBackend('wasm', { threads: THREADS });
  const b = await benchMobileNet(RUNS, TORCH_THREADS[0]!);
  console.log(
    `\nMobileNetV2 (test/helpers/mobilenet.ts, ${b.params.toLocaleString('en-US')} parameters, random weights), 224×224×3, batch ${MOBILENET_BATCH}, ` +
      `${RUNS} runs after 1 warm-up · ours: ${backend.name}${backend.fastKernels ? ' + advtest kernels' : ''}, ${backend.threads ?? 1} thread(s)` +
      (b.torch ? ` · PyTorch ${b.torch}` : ''),
  );
  console.log(renderMobileNet(b));
  if (b.torchUnavailable) console.log(`PyTorch: ${b.torchUnavailable}`);
  console.log(`load average (1 min) ${b.loadStart[0]!.toFixed(2)} → ${b.loadEnd[0]!.toFixed(2)} on ${os.cpus().length} cores`);
  const file = JSON_FILE.replace(/\.json$/, '') + '-mobilenet.json';
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ format: 'advtest-bench-mobilenet/1', date: new Date().toISOString(), ...b }, null, 2) + '\n');
  console.log(`JSON: ${file}`);
}

/** One row of the table: how to run it under each setup (absent = not applicable). */
interface Measure {
  measure: string;
  description: string;
  images: number;
  ours: () => void | Promise<void>;
  stock: boolean;
  torch?: TorchTask;
  /** For rows without their own PyTorch run: the row whose PyTorch time the ratio uses. */
  compareWith?: string;
}

/** What the two evaluate rows found, to check that the workers computed the same thing. */
function accuracyOf(report: Report): string {
  return report.results.map((r) => `${r.attack}@${r.eps}: ${r.correct}/${r.n}`).join(', ');
}

async function main(): Promise<void> {
  if (ONLY === 'mobilenet') return mobileNetRows();
  const loadStart = os.loadavg();
  const backend = await initBackend('wasm', { threads: THREADS });
  const setup = await benchSetup(PGD_IMAGES);
  const attack = pgd({ steps: PGD_STEPS });

  const unavailable = torchUnavailable();
  /** One PyTorch process per thread count, keyed "2 threads" / "1 thread". */
  const torches = new Map<string, TorchServer>();
  if (unavailable === undefined) {
    const dir = await exportForTorch(setup, { batch: BATCH, eps: PGD_EPS, steps: PGD_STEPS, stepSize: STEP_SIZE });
    try {
      for (const threads of TORCH_THREADS) {
        torches.set(`${threads} thread${threads === 1 ? '' : 's'}`, await TorchServer.start(dir, threads, [], TORCH_MALLOC));
      }
    } catch (err) {
      for (const t of torches.values()) await t.close();
      throw err;
    } finally {
      // Each server has read everything it needs by the time it reports ready.
      await rm(dir, { recursive: true, force: true });
    }
  }
  const torch = torches.values().next().value as TorchServer | undefined;

  const pool = new WorkerPool(WORKERS, {
    kind: 'evaluate',
    request: { backend: 'wasm', model: { model: FIXTURE_MODEL }, data: 'mnist', limit: PGD_IMAGES, attack: { attack: 'pgd', steps: String(PGD_STEPS) }, seed: 0 },
    job: { batchSize: BATCH, seed: 0, probes: false, epsilons: [PGD_EPS] },
  });
  const evaluations = new Map<string, string>();
  const evaluateWith = (label: string, runner?: { concurrency: number; run(batch: number): Promise<BatchRecord> }) => async () => {
    const report = await evaluate(setup.classifier, setup.data, [attack], [PGD_EPS], {
      batchSize: BATCH,
      seed: 0,
      probes: false,
      ...(runner ? { runner } : {}),
    });
    evaluations.set(label, accuracyOf(report));
  };
  const poolRunner = pool.evaluationRunner();

  const measures: Measure[] = [
    { measure: 'forward', description: 'classifier logits', images: BATCH, ours: setup.forward, stock: true, torch: 'forward' },
    { measure: 'input gradient', description: 'objectiveGradient, CE summed', images: BATCH, ours: setup.inputGradient, stock: true, torch: 'grad' },
    {
      measure: 'PGD-10',
      description: `runAttack(pgd({ steps: 10 })), ε = ${PGD_EPS}, batches of ${BATCH}, ${THREAD_LABEL}`,
      images: PGD_IMAGES,
      ours: () => setup.pgd(PGD_IMAGES),
      stock: true,
      torch: 'pgd',
    },
    {
      measure: 'PGD-10 evaluate, in process',
      description: `evaluate() with PGD-10 in this process, ${THREAD_LABEL} (clean pass, attack on clean-correct digits, checks)`,
      images: PGD_IMAGES,
      ours: evaluateWith('in process'),
      stock: false,
      compareWith: 'PGD-10',
    },
    {
      measure: `PGD-10 evaluate, --workers ${WORKERS}`,
      description: `the same evaluate() with batches sharded over ${WORKERS} worker threads (WorkerPool), 1 kernel thread each`,
      images: PGD_IMAGES,
      ours: evaluateWith(`${WORKERS} workers`, poolRunner),
      stock: false,
      compareWith: 'PGD-10',
    },
    { measure: 'training step', description: 'trainModel, one Adam step, mean CE', images: BATCH, ours: setup.trainStep, stock: true, torch: 'train' },
  ];

  interface Times {
    ours: number[];
    oursCpu: number[];
    stock: number[];
    torch: Map<string, number[]>;
    torchCpu: Map<string, number[]>;
  }
  const times = new Map<string, Times>(measures.map((m) => [m.measure, { ours: [], oursCpu: [], stock: [], torch: new Map(), torchCpu: new Map() }]));
  const cpuStart = sampleCpu();
  const cpuPerRun: Array<CpuShares | null> = [];
  const stockErrors = new Map<string, string>();
  const tensorsBefore = tf.memory().numTensors;
  let stockLeaks = 0;
  console.error(
    `bench: ${RUNS} runs after ${WARMUP} warm-up; ${measures.length} measures × (ours${WITH_STOCK ? ', stock' : ''}${[...torches.keys()].map((k) => `, PyTorch ${k}`).join('')}) per run`,
  );
  try {
    for (let r = -WARMUP; r < RUNS; r++) {
      const runStart = sampleCpu();
      for (const m of measures) {
        const record = times.get(m.measure)!;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await m.ours();
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(c0);
        if (r >= 0) {
          record.ours.push(wall);
          record.oursCpu.push((cpu.user + cpu.system) / 1000);
        }
        if (WITH_STOCK && m.stock && !stockErrors.has(m.measure)) {
          unregisterWasmGradKernels();
          const before = tf.memory().numTensors;
          try {
            const s0 = performance.now();
            await m.ours();
            if (r >= 0) record.stock.push(performance.now() - s0);
          } catch (err) {
            stockErrors.set(m.measure, (err as Error).message.split('\n')[0] ?? String(err));
            // tfjs keeps the tape of a backward pass that threw; not ours to count as a leak.
            stockLeaks += tf.memory().numTensors - before;
          } finally {
            registerWasmGradKernels();
          }
        }
        if (m.torch) {
          for (const [config, server] of torches) {
            const { ms, cpuMs } = await server.measure(m.torch, m.images);
            if (r >= 0) {
              record.torch.set(config, [...(record.torch.get(config) ?? []), ms]);
              if (cpuMs !== undefined) record.torchCpu.set(config, [...(record.torchCpu.get(config) ?? []), cpuMs]);
            }
          }
        }
      }
      const shares = cpuShares(runStart, sampleCpu());
      if (r >= 0) cpuPerRun.push(shares ?? null);
      const sharesText = shares ? `, steal ${shares.stealPercent}% idle ${shares.idlePercent}%` : '';
      console.error(`  run ${r + 1}/${RUNS}${r < 0 ? ' (warm-up)' : ''} done, load ${os.loadavg()[0]!.toFixed(2)}${sharesText}`);
    }
  } finally {
    await pool.close();
    for (const t of torches.values()) await t.close();
  }
  const tensorsLeaked = tf.memory().numTensors - tensorsBefore - stockLeaks;
  const cpuOverall = cpuShares(cpuStart, sampleCpu());
  const cpu = describeCpu();

  const results: MeasureResult[] = measures.map((m) => {
    const t = times.get(m.measure)!;
    const row: MeasureResult = { measure: m.measure, description: m.description, images: m.images, ours: timing(t.ours, m.images, t.oursCpu) };
    if (WITH_STOCK && m.stock) {
      const error = stockErrors.get(m.measure);
      row.stock = error !== undefined ? { error } : timing(t.stock, m.images);
    }
    if (t.torch.size > 0) row.torch = Object.fromEntries([...t.torch].map(([config, runs]) => [config, timing(runs, m.images, t.torchCpu.get(config))]));
    return row;
  });
  for (const row of results) {
    const m = measures.find((x) => x.measure === row.measure)!;
    const reference: Record<string, Timing> | undefined = m.compareWith ? results.find((x) => x.measure === m.compareWith)?.torch : row.torch;
    if (reference === undefined || row.ours === undefined) continue;
    if (m.compareWith) row.torchMeasure = m.compareWith;
    const ours = row.ours.imagesPerSecond;
    row.ratios = Object.fromEntries(Object.entries(reference).map(([config, t]) => [config, ours / t.imagesPerSecond]));
    const [best, bestTiming] = Object.entries(reference).sort(([, a], [, b]) => b.imagesPerSecond - a.imagesPerSecond)[0]!;
    row.torchBest = best;
    row.ratio = ours / bestTiming.imagesPerSecond;
  }

  const report: BenchReport = {
    format: 'advtest-bench/1',
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAverageStart: loadStart,
      loadAverageEnd: os.loadavg(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpuFlags: cpu.flags,
      ...(cpuOverall ? { cpu: cpuOverall } : {}),
      cpuPerRun,
    },
    versions: { tfjs: tf.version.tfjs, ...(torch ? { torch: torch.info.torch } : {}) },
    backend: {
      name: backend.name,
      fastKernels: backend.fastKernels,
      simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      wasmThreads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
      threads: backend.threads ?? 1,
    },
    torch: torch
      ? {
          threads: [...torches.values()].map((t) => t.info.threads),
          interopThreads: [...torches.values()].map((t) => t.info.interopThreads ?? NaN),
          python: torch.info.python ?? SYSTEM_PYTHON,
          logitsMaxDiff: torch.info.logitsMaxDiff,
          malloc: TORCH_MALLOC,
          env: TORCH_MALLOC_ENV[TORCH_MALLOC],
        }
      : { unavailable: unavailable ?? 'unknown' },
    settings: { batch: BATCH, pgdImages: PGD_IMAGES, eps: PGD_EPS, steps: PGD_STEPS, stepSize: STEP_SIZE, runs: RUNS, warmup: WARMUP, workers: WORKERS },
    results,
    tensorsLeaked,
  };
  setup.dispose();

  console.log(
    `\nmnist-cnn (${FIXTURE_MODEL}), batch ${BATCH}, median of ${RUNS} runs · ours: ${backend.name} backend` +
      `${backend.fastKernels ? ' + advtest kernels' : ''}, tfjs ${tf.version.tfjs}, ${backend.threads ?? 1} kernel thread(s) in process, 1 per worker` +
      (torch ? ` · PyTorch ${torch.info.torch} (logits agree to ${torch.info.logitsMaxDiff.toExponential(1)}; malloc ${TORCH_MALLOC})` : ''),
  );
  console.log(renderTable(report));
  console.log(`ours/PT = median images per second, ours ÷ PyTorch's with that many threads (≥ 1: at least as fast); rows marked "as X" compare with PyTorch's X. spread = (max − min) ÷ median; cpu ours/PT = PyTorch's median CPU time per image ÷ ours (all threads; not inflated by waiting for a core).`);
  console.log(`every run, wall ms (cpu ms of the whole process, all threads):\n${renderRuns(report)}`);
  if (!torch) {
    console.log(`PyTorch: ${unavailable}. For PyTorch's figures on the same weights and digits: apt-get install python3-torch (used as ${SYSTEM_PYTHON}) and re-run.`);
  }
  const [one, many] = [evaluations.get('in process'), evaluations.get(`${WORKERS} workers`)];
  if (one !== many) throw new Error(`evaluate in this process (${one}) and on ${WORKERS} workers (${many}) disagree`);
  console.log(`evaluate (in process and on ${WORKERS} workers agree): ${one}`);
  console.log(
    `machine: ${report.machine.cpus} × ${report.machine.cpuModel} (${cpu.flags.join(' ') || 'flags unknown'}), load ${loadStart[0]!.toFixed(2)} → ${os.loadavg()[0]!.toFixed(2)}` +
      (cpuOverall ? `; over the bench: steal ${cpuOverall.stealPercent}%, idle ${cpuOverall.idlePercent}%, busy ${cpuOverall.busyPercent}% of ${report.machine.cpus} cores` : '') +
      `; threads: ours ${backend.threads ?? 1} kernel thread(s) in process, ${WORKERS} workers × 1; PyTorch ${[...torches.values()].map((t) => `${t.info.threads}+${t.info.interopThreads ?? '?'} interop`).join(', ') || '—'}` +
      (torch ? ` (${torch.info.python ?? SYSTEM_PYTHON}, same machine)` : '') +
      `; tensors leaked: ${tensorsLeaked}`,
  );

  await mkdir(dirname(JSON_FILE), { recursive: true });
  await writeFile(JSON_FILE, JSON.stringify(report, null, 2) + '\n');
  console.log(`JSON: ${JSON_FILE}`);
  if (COMPARE !== undefined) {
    const before = JSON.parse(await readFile(COMPARE, 'utf8')) as BenchReport;
    console.log(`\nagainst ${COMPARE}:`);
    console.log(renderComparison(before, report));
  }
  if (tensorsLeaked !== 0) process.exitCode = 1;
  if (ONLY !== 'mnist') await mobileNetRows();
}

await main();
