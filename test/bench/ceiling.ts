/**
 * How close advtest's arithmetic runs to what this machine can do, on one thread (issue 21: is
 * the remaining gap to PyTorch compute, i.e. 128-bit wasm SIMD without FMA against native FMA?):
 *
 * - wasm SIMD128 peak: a hand-written loop of f32x4.mul + f32x4.add on independent accumulators
 *   (assembled here with wabt, as scripts/build-simd-kernels.ts does), for several accumulator
 *   counts; and the same with f32x4.relaxed_madd (FMA) where this Node can run relaxed SIMD;
 * - native peak: the same loop in C (gcc -O2 -mavx2 -mfma): 128-bit mul + add, 256-bit FMA and,
 *   where the CPU has avx512f, 512-bit FMA;
 * - XNNPACK (tfjs-backend-wasm, `initBackend('wasm', { threads: 1 })`): a 1024² matMul, the
 *   dense layer's matMul and the three convolutions that dominate the mnist-cnn's PGD and training profile (test/bench/
 *   profile.ts), each with the same operands every call (XNNPACK's packed weights cached) and with
 *   a new filter / right-hand operand every call (as in our gradients, whose filters are fresh
 *   tensors: XNNPACK repacks them every time);
 * - PyTorch (Debian's, /usr/bin/python3, torch.set_num_threads(1)) on the same matMul and convs
 *   (scripts/bench-ceiling.py, NCHW, same padding), and its mnist-cnn forward / input gradient /
 *   training step; each twice, with glibc's default allocation and with freed memory kept in the
 *   heap (KEEP_MEMORY): on our sessions' VMs page faults, not arithmetic, decided PyTorch's times.
 *
 *   node --import tsx test/bench/ceiling.ts [--runs 5] [--seconds 0.2] [--no-torch] [--no-c] [--json FILE]
 *
 * Each measure is called enough times for one timing to span --seconds; the timings run in
 * --runs rounds, each round timing every measure once (the C and PyTorch ones as child processes),
 * so that the load of a shared machine hits a round's measures alike: the "% of peak" columns are
 * medians of per-round ratios. GFLOP/s (FLOPs = 2 × multiply-adds, zero-padded taps included,
 * flops.ts) from the process CPU time (not inflated by waiting for a core) and from wall time,
 * best and median of the rounds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type * as TF from '@tensorflow/tfjs';
import initWabt from 'wabt';
import { conv2dWork, matMulWork } from './flops.js';
import { cpuShares, describeCpu, sampleCpu } from './machine.js';
import { SYSTEM_PYTHON } from './torch.js';

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const RUNS = Math.floor(argValue('--runs', 5));
const SECONDS = argValue('--seconds', 0.2);
const jsonIndex = process.argv.indexOf('--json');
const JSON_FILE = jsonIndex >= 0 ? process.argv[jsonIndex + 1] : undefined;
const TORCH_SCRIPT = fileURLToPath(new URL('../../scripts/bench-ceiling.py', import.meta.url));

interface Row {
  group: 'wasm peak' | 'native peak' | 'XNNPACK' | 'PyTorch';
  name: string;
  /** Multiply-adds per call. */
  macs: number;
  /** Per call, one entry per run. */
  wallMs: number[];
  cpuMs: number[];
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const rate = (macs: number, ms: number): number => (2 * macs) / (ms * 1e6);

/** A measure timed in this process: `call` does `macs` multiply-adds. */
interface InProcess {
  group: Row['group'];
  name: string;
  macs: number;
  call: () => void;
  /** Before / after a timing of `calls` calls, untimed (fresh operands). */
  before?: (calls: number) => void;
  after?: () => void;
  calls?: number;
}

function timeOnce(m: InProcess, calls: number): { wall: number; cpu: number } {
  m.before?.(calls);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) m.call();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  m.after?.();
  return { wall: wall / calls, cpu: (c.user + c.system) / 1000 / calls };
}

/** Calls per timing so that one timing spans SECONDS. */
function calibrate(m: InProcess): number {
  timeOnce(m, 1);
  let calls = 1;
  while (timeOnce(m, calls).wall * calls < SECONDS * 1000) calls *= 2;
  return calls;
}

/** Rows by group and name, one wall / CPU entry per round. */
class Rows {
  readonly list: Row[] = [];
  add(group: Row['group'], name: string, macs: number, wallMs: number, cpuMs: number): void {
    let row = this.list.find((r) => r.group === group && r.name === name);
    if (!row) this.list.push((row = { group, name, macs, wallMs: [], cpuMs: [] }));
    row.wallMs.push(wallMs);
    row.cpuMs.push(cpuMs);
  }
}

// ---------------------------------------------------------------------------------------------
// wasm peak

/**
 * `peak(n)`: n iterations of, on each of `acc` accumulators, a = a·y + x (f32x4.mul then
 * f32x4.add, or one f32x4.relaxed_madd), unrolled `unroll` times. a stays at 1 (y = 0.999,
 * x = 0.001): no denormals, no overflow. Returns a lane of their sum, so nothing is dead code.
 */
function peakWat(acc: number, unroll: number, fma: boolean): string {
  const locals = Array.from({ length: acc }, (_, i) => `(local $a${i} v128)`).join(' ');
  const init = Array.from({ length: acc }, (_, i) => `(local.set $a${i} (v128.const f32x4 1 1 1 1))`).join('\n');
  const step = (i: number): string =>
    fma
      ? `(local.set $a${i} (f32x4.relaxed_madd (local.get $a${i}) (local.get $y) (local.get $x)))`
      : `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $y)) (local.get $x)))`;
  const body = Array.from({ length: unroll }, () => Array.from({ length: acc }, (_, i) => step(i)).join('\n')).join('\n');
  let sum = '(local.get $a0)';
  for (let i = 1; i < acc; i++) sum = `(f32x4.add ${sum} (local.get $a${i}))`;
  return `(module
  (func (export "peak") (param $n i32) (result f32)
    (local $y v128) (local $x v128) ${locals}
    (local.set $y (v128.const f32x4 0.999 0.999 0.999 0.999))
    (local.set $x (v128.const f32x4 0.001 0.001 0.001 0.001))
    ${init}
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        ${body}
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (f32x4.extract_lane 0 ${sum})))`;
}

/** The parts of the WebAssembly JS API used here (the project's lib settings declare none). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const UNROLL = 4;
/** Multiply-add steps per accumulator and call (the loop runs ITERATIONS / UNROLL times). */
const ITERATIONS = 1 << 20;

/** The name of the row the "% of wasm SIMD128 peak" column divides by. */
const WASM_PEAK = 'wasm f32x4.mul + f32x4.add, 12 accumulators';

async function wasmPeaks(): Promise<InProcess[]> {
  // Relaxed SIMD (FMA) is behind a flag in Node 20's V8; must be set before compiling.
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const wabt = await initWabt();
  const measures: InProcess[] = [];
  for (const fma of [false, true]) {
    for (const acc of [8, 12]) {
      const name = `wasm ${fma ? 'f32x4.relaxed_madd' : 'f32x4.mul + f32x4.add'}, ${acc} accumulators`;
      let peak: (n: number) => number;
      try {
        const mod = wabt.parseWat('peak.wat', peakWat(acc, UNROLL, fma), { simd: true, relaxed_simd: true });
        const bytes = mod.toBinary({}).buffer;
        mod.destroy();
        const instance = new wasmApi.Instance(new wasmApi.Module(bytes));
        peak = instance.exports['peak'] as (n: number) => number;
      } catch (err) {
        console.log(`${name}: cannot run (${(err as Error).message.split('\n')[0]})`);
        break;
      }
      // Warm up: V8 starts wasm in its baseline compiler and tiers hot functions up in the
      // background; a call already running does not switch, so time only later calls.
      const t0 = performance.now();
      while (performance.now() - t0 < 300) peak(1 << 14);
      measures.push({ group: 'wasm peak', name, macs: ITERATIONS * acc * 4, call: () => peak(ITERATIONS / UNROLL) });
    }
  }
  return measures;
}

// ---------------------------------------------------------------------------------------------
// native peak (C)

const C_SOURCE = String.raw`
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define ACC 12
static double now(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
/* Same loop as the wasm one: a = a*y + x on ACC independent accumulators. Built with
   -ffp-contract=off so that the 128-bit mul + add stays two instructions. */
__attribute__((noipa)) float sse_muladd(long n) {
  __m128 y = _mm_set1_ps(0.999f), x = _mm_set1_ps(0.001f), a[ACC];
  for (int i = 0; i < ACC; i++) a[i] = _mm_set1_ps(1.0f + 0.001f * i);
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 16
    for (int i = 0; i < ACC; i++) a[i] = _mm_add_ps(_mm_mul_ps(a[i], y), x);
  }
  __m128 s = a[0];
  for (int i = 1; i < ACC; i++) s = _mm_add_ps(s, a[i]);
  return _mm_cvtss_f32(s);
}
/* The FMA loops, one per vector width: a = fma(a, y, x) on ACC accumulators. */
#define FMA_PEAK(name, attributes, V, set1, fmadd, add, first) \
  __attribute__ attributes float name(long n) { \
    V y = set1(0.999f), x = set1(0.001f), a[ACC]; \
    for (int i = 0; i < ACC; i++) a[i] = set1(1.0f + 0.001f * i); \
    for (long k = 0; k < n; k++) { \
      _Pragma("GCC unroll 16") \
      for (int i = 0; i < ACC; i++) a[i] = fmadd(a[i], y, x); \
    } \
    V s = a[0]; \
    for (int i = 1; i < ACC; i++) s = add(s, a[i]); \
    return first(s); \
  }
FMA_PEAK(avx2_fma, ((noipa)), __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32)
FMA_PEAK(avx512_fma, ((noipa, target("avx512f"))), __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps)
static void run(const char *name, float (*f)(long), int lanes, int runs, double seconds) {
  long n = 1024;
  float sink = f(n);
  for (;;) { double t0 = now(CLOCK_MONOTONIC); sink += f(n); if (now(CLOCK_MONOTONIC) - t0 >= seconds) break; n *= 2; }
  printf("{\"name\":\"%s\",\"macs\":%.0f,\"wallMs\":[", name, (double)n * ACC * lanes);
  double cpu[64];
  for (int r = 0; r < runs && r < 64; r++) {
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    sink += f(n);
    printf("%s%.4f", r ? "," : "", (now(CLOCK_MONOTONIC) - t0) * 1000);
    cpu[r] = (now(CLOCK_THREAD_CPUTIME_ID) - c0) * 1000;
  }
  printf("],\"cpuMs\":[");
  for (int r = 0; r < runs && r < 64; r++) printf("%s%.4f", r ? "," : "", cpu[r]);
  printf("],\"sink\":%g}\n", sink);
}
int main(int argc, char **argv) {
  int runs = atoi(argv[1]);
  double seconds = atof(argv[2]);
  __builtin_cpu_init();
  run("C 128-bit mul + add (SSE), 12 accumulators", sse_muladd, 4, runs, seconds);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) run("C 256-bit FMA (AVX2), 12 accumulators", avx2_fma, 8, runs, seconds);
  if (__builtin_cpu_supports("avx512f")) run("C 512-bit FMA (AVX-512), 12 accumulators", avx512_fma, 16, runs, seconds);
  return 0;
}
`;

/** Compiles the C loops into `dir`; the executable, or undefined (said why) when gcc fails. */
function compileNative(dir: string): string | undefined {
  const src = path.join(dir, 'peak.c');
  const exe = path.join(dir, 'peak');
  writeFileSync(src, C_SOURCE);
  const cc = spawnSync('gcc', ['-O2', '-mavx2', '-mfma', '-ffp-contract=off', '-o', exe, src], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    console.log(`native peak: gcc failed (${cc.error?.message ?? cc.stderr.trim().split('\n')[0]})`);
    return undefined;
  }
  return exe;
}

/**
 * One round of the C loops (a child process; it calibrates its own iteration count): the median
 * of 3 timings, since a single thread-CPU-time reading now and then came out at twice the peak.
 */
function runNative(exe: string, rows: Rows): void {
  const r = spawnSync(exe, ['3', String(SECONDS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`native peak: ${exe} exited ${r.status} (${r.stderr.trim()})`);
  for (const line of r.stdout.trim().split('\n')) {
    const o = JSON.parse(line) as { name: string; macs: number; wallMs: number[]; cpuMs: number[] };
    rows.add('native peak', o.name, o.macs, median(o.wallMs), median(o.cpuMs));
  }
}

// ---------------------------------------------------------------------------------------------
// XNNPACK and PyTorch on the same shapes

interface Spec {
  name: string;
  kind: 'matmul' | 'conv';
  a?: number[];
  b?: number[];
  x?: number[];
  filter?: number[];
  /** top, bottom, left, right */
  pad?: [number, number, number, number];
}

const SPECS: Spec[] = [
  { name: 'matMul [1024,1024]·[1024,1024]', kind: 'matmul', a: [1024, 1024], b: [1024, 1024] },
  // The dense layer fc1 (PyTorch runs it through its BLAS, the convolutions through oneDNN).
  { name: 'fc1 matMul [128,1600]·[1600,128]', kind: 'matmul', a: [128, 1600], b: [1600, 128] },
  { name: 'conv2 forward [128,13,13,32]*[3,3,32,64]', kind: 'conv', x: [128, 13, 13, 32], filter: [3, 3, 32, 64], pad: [0, 0, 0, 0] },
  { name: 'conv2 input gradient [128,11,11,64]*[3,3,64,32] pad 2', kind: 'conv', x: [128, 11, 11, 64], filter: [3, 3, 64, 32], pad: [2, 2, 2, 2] },
  { name: 'conv2 filter gradient [32,13,13,128]*[11,11,128,64]', kind: 'conv', x: [32, 13, 13, 128], filter: [11, 11, 128, 64], pad: [0, 0, 0, 0] },
];

function specMacs(s: Spec): number {
  if (s.kind === 'matmul') return matMulWork(s.a!, s.b!, {}).macs;
  const [t, b, l, r] = s.pad!;
  return conv2dWork(s.x!, s.filter!, { strides: 1, pad: [[0, 0], [t, b], [l, r], [0, 0]] }).macs;
}

async function xnnpack(): Promise<{ measures: InProcess[]; threads: number; dispose: () => void }> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../../src/backend/select.js');
  const info = await initBackend('wasm', { threads: 1 });
  const measures: InProcess[] = [];
  const held: TF.Tensor[] = [];
  for (const s of SPECS) {
    const left = tf.randomNormal(s.kind === 'matmul' ? s.a! : s.x!, 0, 1, 'float32', 1);
    const right = tf.randomNormal(s.kind === 'matmul' ? s.b! : s.filter!, 0, 1, 'float32', 2);
    held.push(left, right);
    const [t, b, l, r] = s.pad ?? [0, 0, 0, 0];
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [t, b], [l, r], [0, 0]];
    const op = (rhs: TF.Tensor) =>
      s.kind === 'matmul' ? tf.matMul(left as TF.Tensor2D, rhs as TF.Tensor2D) : tf.conv2d(left as TF.Tensor4D, rhs as TF.Tensor4D, 1, pad);
    const macs = specMacs(s);
    measures.push({ group: 'XNNPACK', name: `${s.name}, same operands`, macs, call: () => op(right).dispose() });
    // A new right-hand tensor per call (copied before the timing), as our gradients' filters are:
    // XNNPACK's packed weights cannot be reused.
    let fresh: TF.Tensor[] = [];
    let next = 0;
    measures.push({
      group: 'XNNPACK',
      name: `${s.name}, new ${s.kind === 'matmul' ? 'b' : 'filter'} each call`,
      macs,
      call: () => op(fresh[next++]!).dispose(),
      before: (calls) => {
        fresh = Array.from({ length: calls }, () => tf.add(right, 0));
        next = 0;
      },
      after: () => fresh.forEach((f) => f.dispose()),
    });
  }
  return { measures, threads: info.threads ?? 1, dispose: () => held.forEach((t) => t.dispose()) };
}

interface TorchOut {
  torch: string;
  threads: number;
  mkldnn: boolean;
  config: string[];
  libraries: string[];
  results: Array<{ name: string; wallMs: number[]; cpuMs: number[] }>;
  cnn: Record<string, { wallMs: number[]; cpuMs: number[] }>;
}
type TorchInfo = Omit<TorchOut, 'results' | 'cnn'> & { blasCore?: string };

/**
 * glibc settings under which freed large buffers stay in the heap instead of going back to the
 * OS: on the VMs of our sessions every fresh mmap'd page costs a slow page fault, and PyTorch
 * allocates new tensors for every op (measured: its mnist-cnn step 2.5–4× slower without).
 */
const KEEP_MEMORY = { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '4294967296' };
const KEEP_SUFFIX = ', glibc keeps freed memory';

/**
 * One round of PyTorch (a child process), with glibc's default allocation or keeping freed memory
 * (KEEP_MEMORY); also its mnist-cnn tasks into `cnn`. Its build info, or undefined (said why) when
 * it cannot run.
 */
function runTorch(specFile: string, rows: Rows, cnn: Rows, keep: boolean): TorchInfo | undefined {
  // OPENBLAS_VERBOSE=2 makes OpenBLAS (when it is torch's BLAS) name the kernels it chose.
  const r = spawnSync(SYSTEM_PYTHON, [TORCH_SCRIPT, specFile, '--threads', '1', '--runs', '1', '--seconds', String(SECONDS), '--cnn'], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_VERBOSE: '2', ...(keep ? KEEP_MEMORY : {}) },
  });
  if (r.error || r.status !== 0) {
    console.log(`PyTorch: not measured (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`);
    return undefined;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchOut;
  const suffix = keep ? KEEP_SUFFIX : '';
  out.results.forEach((res, i) => rows.add('PyTorch', `${res.name}${suffix}`, specMacs(SPECS[i]!), res.wallMs[0]!, res.cpuMs[0]!));
  for (const [task, t] of Object.entries(out.cnn)) cnn.add('PyTorch', `mnist-cnn ${task}${suffix}`, 0, t.wallMs[0]!, t.cpuMs[0]!);
  const core = `${r.stdout}\n${r.stderr}`.match(/Core:\s*(\S+)/)?.[1];
  const { results: _, cnn: __, ...info } = out;
  return { ...info, ...(core && { blasCore: core }) };
}

// ---------------------------------------------------------------------------------------------

/** Per round, this row's CPU-time rate over `peak(round)`; the median over rounds. */
function medianRatio(row: Row, peak: (round: number) => number | undefined): number | undefined {
  const ratios: number[] = [];
  row.cpuMs.forEach((ms, i) => {
    const p = peak(i);
    if (p !== undefined && p > 0) ratios.push(rate(row.macs, ms) / p);
  });
  return ratios.length > 0 ? median(ratios) : undefined;
}

function printTable(rows: Row[]): void {
  const wasmRow = rows.find((r) => r.group === 'wasm peak' && r.name === WASM_PEAK);
  const natives = rows.filter((r) => r.group === 'native peak' && r.name.includes('FMA'));
  const wasmPeak = (i: number) => (wasmRow?.cpuMs[i] === undefined ? undefined : rate(wasmRow.macs, wasmRow.cpuMs[i]!));
  const nativePeak = (i: number) => {
    const v = natives.filter((r) => r.cpuMs[i] !== undefined).map((r) => rate(r.macs, r.cpuMs[i]!));
    return v.length > 0 ? Math.max(...v) : undefined;
  };
  const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(0)}%`);
  console.log(`\nGFLOP/s on one thread (FLOPs = 2 × multiply-adds; CPU: from process CPU time, wall: from wall time; best / median of ${RUNS} rounds, each timing ≥ ${SECONDS} s):`);
  console.log('| measure | ms per call (CPU, median) | GFLOP/s CPU best / median | GFLOP/s wall best / median | % of wasm SIMD128 peak | % of native peak |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.group}: ${r.name} | ${median(r.cpuMs).toFixed(2)} | ${rate(r.macs, Math.min(...r.cpuMs)).toFixed(1)} / ${rate(r.macs, median(r.cpuMs)).toFixed(1)} | ${rate(r.macs, Math.min(...r.wallMs)).toFixed(1)} / ${rate(r.macs, median(r.wallMs)).toFixed(1)} | ${pct(medianRatio(r, wasmPeak))} | ${pct(medianRatio(r, nativePeak))} |`,
    );
  }
  console.log(`\n% columns: median over the rounds of (this row's CPU-time GFLOP/s ÷ the peak's in the same round); wasm peak = "${WASM_PEAK}", native peak = the best C FMA row of the round.`);
  if (wasmRow && natives.length > 0) {
    const ratio = (i: number) => {
      const w = wasmPeak(i);
      const n = nativePeak(i);
      return w !== undefined && n !== undefined ? n / w : undefined;
    };
    const per = wasmRow.cpuMs.map((_, i) => ratio(i)).filter((v): v is number => v !== undefined);
    console.log(`native peak ÷ wasm SIMD128 peak per round: ${per.map((v) => v.toFixed(2)).join(', ')} (median ${median(per).toFixed(2)}×)`);
  }
  const byName = (group: Row['group'], name: string) => rows.find((r) => r.group === group && r.name === name);
  for (const spec of SPECS) {
    const x = byName('XNNPACK', `${spec.name}, same operands`);
    if (!x) continue;
    const parts: string[] = [];
    for (const [label, t] of [
      ['default malloc', byName('PyTorch', spec.name)],
      ['freed memory kept', byName('PyTorch', `${spec.name}${KEEP_SUFFIX}`)],
    ] as const) {
      if (!t) continue;
      const per = x.cpuMs.map((ms, i) => (t.cpuMs[i] === undefined ? undefined : t.cpuMs[i]! / ms)).filter((v): v is number => v !== undefined);
      parts.push(`${median(per).toFixed(2)}× (${label}; ${per.map((v) => v.toFixed(2)).join(', ')})`);
    }
    if (parts.length > 0) console.log(`  ${spec.name}: PyTorch ÷ XNNPACK CPU time per call, median of per-round ratios ${parts.join('; ')}`);
  }
}

async function main(): Promise<void> {
  const cpu = describeCpu();
  const load0 = os.loadavg();
  const s0 = sampleCpu();
  console.log(`${cpu.model}, ${cpu.cores} cores, flags: ${cpu.flags.join(' ') || 'unknown'}; load average at start ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'advtest-ceiling-'));
  const rows = new Rows();
  const cnn = new Rows();
  let torchInfo: TorchInfo | undefined;
  let threads = 0;
  try {
    const inProcess = await wasmPeaks();
    const x = await xnnpack();
    threads = x.threads;
    inProcess.push(...x.measures);
    for (const m of inProcess) m.calls = calibrate(m);
    const exe = process.argv.includes('--no-c') ? undefined : compileNative(dir);
    const specFile = path.join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(SPECS.map((s) => ({ ...s, dilation: [1, 1] }))));
    let torch = !process.argv.includes('--no-torch');
    for (let round = 0; round < RUNS; round++) {
      for (const m of inProcess) {
        const t = timeOnce(m, m.calls!);
        rows.add(m.group, m.name, m.macs, t.wall, t.cpu);
      }
      if (exe) runNative(exe, rows);
      if (torch) {
        torchInfo = runTorch(specFile, rows, cnn, false) ?? torchInfo;
        torch = torchInfo !== undefined && runTorch(specFile, rows, cnn, true) !== undefined;
      }
      console.log(`round ${round + 1} of ${RUNS} done, load ${os.loadavg()[0]!.toFixed(2)}`);
    }
    x.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const shares = cpuShares(s0, sampleCpu());
  const load1 = os.loadavg();
  const order: Row['group'][] = ['wasm peak', 'native peak', 'XNNPACK', 'PyTorch'];
  const list = [...rows.list].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  printTable(list);
  console.log(`\nXNNPACK: tfjs-backend-wasm on ${threads} thread(s).`);
  if (torchInfo) {
    console.log(`PyTorch ${torchInfo.torch}, ${torchInfo.threads} thread(s), mkldnn ${torchInfo.mkldnn ? 'available' : 'unavailable'}${torchInfo.blasCore ? `, OpenBLAS core ${torchInfo.blasCore}` : ''}; ${torchInfo.config.map((l) => l.slice(0, 120)).join('; ')}`);
    console.log(`PyTorch's math libraries: ${torchInfo.libraries.join(', ') || 'unknown'}`);
    console.log(`PyTorch's mnist-cnn (random weights, batch 128, 1 thread), CPU ms per call, min / median of the rounds (${Object.entries(KEEP_MEMORY).map(([k, v]) => `${k}=${v}`).join(' ')} for "${KEEP_SUFFIX.slice(2)}"):`);
    for (const r of cnn.list) console.log(`  ${r.name}: ${Math.min(...r.cpuMs).toFixed(1)} / ${median(r.cpuMs).toFixed(1)} ms (wall ${Math.min(...r.wallMs).toFixed(1)} / ${median(r.wallMs).toFixed(1)})`);
  }
  console.log(`load average at end ${load1.map((l) => l.toFixed(2)).join(' ')}`);
  if (shares) console.log(`over the run (${shares.seconds.toFixed(0)} s): steal ${shares.stealPercent}%, idle ${shares.idlePercent}%, busy ${shares.busyPercent}% of all cores`);
  if (JSON_FILE) {
    writeFileSync(JSON_FILE, `${JSON.stringify({ date: new Date().toISOString(), cpu, load: { start: load0, end: load1 }, shares, runs: RUNS, seconds: SECONDS, torch: torchInfo, rows: list, torchCnn: cnn.list }, null, 2)}\n`);
    console.log(`wrote ${JSON_FILE}`);
  }
}

await main();
