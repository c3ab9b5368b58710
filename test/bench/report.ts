/**
 * The benchmark's results: the JSON written by `npm run bench` (format `advtest-bench/1`), the
 * table it prints, and the comparison with an earlier JSON (`--compare FILE`).
 */

/** Timings of one measure under one setup; times in milliseconds, one entry per timed run. */
export interface Timing {
  medianMs: number;
  minMs: number;
  imagesPerSecond: number;
  runsMs: number[];
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
  };
  versions: { tfjs: string; torch?: string };
  /** threads: wasm kernel threads in the benchmarking process (absent in JSON from before them). */
  backend: { name: string; fastKernels: boolean; simd: boolean; wasmThreads: boolean; threads?: number };
  torch?: { threads: number[]; logitsMaxDiff: number } | { unavailable: string };
  settings: { batch: number; pgdImages: number; eps: number; steps: number; stepSize: number; runs: number; warmup: number; workers: number };
  results: MeasureResult[];
  tensorsLeaked: number;
}

export function timing(runsMs: number[], images: number): Timing {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const medianMs = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { medianMs, minMs: sorted[0] ?? NaN, imagesPerSecond: (images / medianMs) * 1000, runsMs };
}

function ms(t: Timing | { error: string } | undefined): string {
  if (t === undefined) return '—';
  if ('error' in t) return 'fails';
  return t.medianMs >= 10_000 ? `${(t.medianMs / 1000).toFixed(2)} s` : `${t.medianMs.toFixed(1)} ms`;
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

/** measure | ours (ms, images/s) | [stock] | PyTorch per thread count (ms, images/s) | ratio. */
export function renderTable(report: BenchReport): string {
  const withStock = report.results.some((r) => r.stock !== undefined);
  const configs = torchConfigs(report);
  const header = [
    'measure',
    'images',
    'ours',
    'ours img/s',
    ...(withStock ? ['stock wasm', 'stock img/s'] : []),
    ...configs.flatMap((c) => [`PyTorch ${c}`, 'img/s']),
    ...configs.map((c) => `ours/PT ${c}`),
  ];
  const rows = report.results.map((r) => [
    r.measure,
    String(r.images),
    ms(r.ours),
    rate(r.ours),
    ...(withStock ? [ms(r.stock), rate(r.stock)] : []),
    ...configs.flatMap((c) => [r.torch?.[c] ? ms(r.torch[c]) : r.torchMeasure ? `(as ${r.torchMeasure})` : '—', rate(r.torch?.[c])]),
    ...configs.map((c) => {
      const v = r.ratios?.[c];
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
