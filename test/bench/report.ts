/**
 * The benchmark's results: the JSON written by `npm run bench` (format `advtest-bench/1`), the
 * table it prints, and the comparison with an earlier JSON (`--compare FILE`).
 */

/** Timings of one measure under one setup; times in milliseconds, one entry per timed run. */
export interface Timing {
  medianMs: number;
  minMs: number;
  /** Absent in JSON from before it was recorded. */
  maxMs?: number;
  /** (max − min) ÷ median of the runs: how far this figure can be trusted on this machine. */
  spread?: number;
  imagesPerSecond: number;
  runsMs: number[];
  /**
   * CPU time of the whole process per run (all its threads: kernel threads, workers), ms. Wall
   * time on a loaded machine includes waiting for a core; CPU time does not (but includes spinning).
   */
  cpuMs?: number[];
  cpuMedianMs?: number;
}


export interface MeasureResult {
  measure: string;
  /** What the figure covers. */
  description: string;
  images: number;
  ours?: Timing;
  /** Our code with the stock tfjs wasm kernels (unregisterWasmGradKernels); --stock only. */
  stock?: Timing | { error: string };
  /** PyTorch per thread count ("2 threads", "1 thread"). */
  torch?: Record<string, Timing>;
  /** Which PyTorch measure `ratio` compares with. */
  torchMeasure?: string;
  /** The fastest PyTorch configuration of this row (the one `ratio` uses). */
  torchBest?: string;
  /** ours images/s ÷ the fastest PyTorch configuration's images/s: ≥ 1 means at least as fast. */
  ratio?: number;
  /** ours images/s ÷ PyTorch images/s, per PyTorch configuration. */
  ratios?: Record<string, number>;
}

export interface BenchReport {
  format: 'advtest-bench/1';
  date: string;
  machine: {
    cpus: number;
    cpuModel: string;
    loadAverageStart: number[];
    loadAverageEnd: number[];
    node: string;
    platform: string;
    /** SIMD flags of /proc/cpuinfo that decide kernel choice (absent in older JSON). */
    cpuFlags?: string[];
    /** Steal / idle / busy shares of all cores over the whole bench (machine.ts). */
    cpu?: import('./machine.js').CpuShares;
    /** The same per timed run, in order. */
    cpuPerRun?: Array<import('./machine.js').CpuShares | null>;
  };
  versions: { tfjs: string; torch?: string };
  /** threads: wasm kernel threads in the benchmarking process (absent in JSON from before them). */
  backend: { name: string; fastKernels: boolean; simd: boolean; wasmThreads: boolean; threads?: number };
  /** python: the interpreter PyTorch ran in (a child process of the bench, same machine). */
  torch?:
    | {
        threads: number[];
        interopThreads?: number[];
        python?: string;
        logitsMaxDiff: number;
        /** How PyTorch's process allocated (absent from runs before: glibc's default) and the environment that set it. */
        malloc?: 'kept' | 'default';
        env?: Record<string, string>;
      }
    | { unavailable: string };
  settings: { batch: number; pgdImages: number; eps: number; steps: number; stepSize: number; runs: number; warmup: number; workers: number };
  results: MeasureResult[];
  tensorsLeaked: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function timing(runsMs: number[], images: number, cpuMs?: number[]): Timing {
  const medianMs = median(runsMs);
  const minMs = runsMs.length > 0 ? Math.min(...runsMs) : NaN;
  const maxMs = runsMs.length > 0 ? Math.max(...runsMs) : NaN;
  const t: Timing = { medianMs, minMs, maxMs, spread: (maxMs - minMs) / medianMs, imagesPerSecond: (images / medianMs) * 1000, runsMs };
  if (cpuMs !== undefined && cpuMs.length > 0) {
    t.cpuMs = cpuMs;
    t.cpuMedianMs = median(cpuMs);
  }
  return t;
}

function ms(t: Timing | { error: string } | undefined): string {
  if (t === undefined) return '—';
  if ('error' in t) return 'fails';
  return t.medianMs >= 10_000 ? `${(t.medianMs / 1000).toFixed(2)} s` : `${t.medianMs.toFixed(1)} ms`;
}

/** min / median, the figures the issue asks for side by side. */
function minMedian(t: Timing | { error: string } | undefined): string {
  if (t === undefined) return '—';
  if ('error' in t) return 'fails';
  const f = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)}`);
  return `${f(t.minMs)} / ${f(t.medianMs)}${t.medianMs >= 10_000 ? '' : ' ms'}`;
}

function spreadOf(t: Timing | { error: string } | undefined): string {
  return t === undefined || 'error' in t || t.spread === undefined ? '—' : `${Math.round(t.spread * 100)}%`;
}

function rate(t: Timing | { error: string } | undefined): string {
  return t === undefined || 'error' in t ? '—' : Math.round(t.imagesPerSecond).toLocaleString('en-US');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    '| ' + cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(header), sep, ...rows.map(line)].join('\n');
}

/** Thread configurations present, in the order first seen. */
function torchConfigs(report: BenchReport): string[] {
  const seen: string[] = [];
  for (const r of report.results) for (const k of Object.keys(r.torch ?? {})) if (!seen.includes(k)) seen.push(k);
  return seen;
}

/**
 * PyTorch's median CPU time per image ÷ ours (all threads of each process): ≥ 1 means we spend
 * less CPU on the same work. Unlike the wall-clock ratio, waiting for a core on a loaded machine
 * does not enter it (spinning threads do).
 */
export function cpuRatio(r: MeasureResult, report: BenchReport, config: string): number | undefined {
  const ref = r.torchMeasure ? report.results.find((x) => x.measure === r.torchMeasure) : r;
  const pt = ref?.torch?.[config];
  if (r.ours?.cpuMedianMs === undefined || pt?.cpuMedianMs === undefined || ref === undefined) return undefined;
  return pt.cpuMedianMs / ref.images / (r.ours.cpuMedianMs / r.images);
}

/** measure | ours (ms, images/s) | [stock] | PyTorch per thread count (ms, images/s) | ratio. */
export function renderTable(report: BenchReport): string {
  const withStock = report.results.some((r) => r.stock !== undefined);
  const configs = torchConfigs(report);
  const header = [
    'measure',
    'images',
    'ours min / median',
    'spread',
    'ours img/s',
    ...(withStock ? ['stock wasm', 'stock img/s'] : []),
    ...configs.flatMap((c) => [`PyTorch ${c} min / median`, 'spread']),
    ...configs.map((c) => `ours/PT ${c}`),
    ...configs.map((c) => `cpu ours/PT ${c}`),
  ];
  const rows = report.results.map((r) => [
    r.measure,
    String(r.images),
    minMedian(r.ours),
    spreadOf(r.ours),
    rate(r.ours),
    ...(withStock ? [ms(r.stock), rate(r.stock)] : []),
    ...configs.flatMap((c) => [r.torch?.[c] ? minMedian(r.torch[c]) : r.torchMeasure ? `(as ${r.torchMeasure})` : '—', spreadOf(r.torch?.[c])]),
    ...configs.map((c) => {
      const v = r.ratios?.[c];
      return v === undefined ? '—' : `${v.toFixed(2)}×`;
    }),
    ...configs.map((c) => {
      const v = cpuRatio(r, report, c);
      return v === undefined ? '—' : `${v.toFixed(2)}×`;
    }),
  ]);
  return table(header, rows);
}

/** Per measure: the earlier throughput, this one, and the change (runs of different sizes compare per image). */
export function renderComparison(before: BenchReport, after: BenchReport): string {
  const rows = after.results.map((r) => {
    const old = before.results.find((b) => b.measure === r.measure);
    const a = r.ours?.imagesPerSecond;
    const b = old?.ours?.imagesPerSecond;
    const change = a !== undefined && b !== undefined ? `${(((a - b) / b) * 100).toFixed(1)}%` : '—';
    return [r.measure, rate(old?.ours), rate(r.ours), change, old?.ratio === undefined ? '—' : `${old.ratio.toFixed(2)}×`, r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`];
  });
  return table(['measure', `img/s ${before.date.slice(0, 16)}`, 'img/s now', 'throughput change', 'ratio then', 'ratio now'], rows);
}

/** Every timed run, wall ms (and CPU ms of the process where recorded), per measure and side. */
export function renderRuns(report: BenchReport): string {
  const lines: string[] = [];
  const runs = (t: Timing): string =>
    t.runsMs.map((v, i) => (t.cpuMs?.[i] !== undefined ? `${v.toFixed(1)} (cpu ${t.cpuMs[i]!.toFixed(1)})` : v.toFixed(1))).join(', ');
  for (const r of report.results) {
    if (r.ours) lines.push(`  ${r.measure}, ours: ${runs(r.ours)}`);
    for (const [config, t] of Object.entries(r.torch ?? {})) lines.push(`  ${r.measure}, PyTorch ${config}: ${runs(t)}`);
  }
  return lines.join('\n');
}
