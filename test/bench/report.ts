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

export type Setup = 'ours' | 'stock' | 'torch';

export interface MeasureResult {
  measure: string;
  /** What the figure covers. */
  description: string;
  images: number;
  ours?: Timing;
  /** Our code with the stock tfjs wasm kernels (unregisterWasmGradKernels); --stock only. */
  stock?: Timing | { error: string };
  torch?: Timing;
  /** Which PyTorch measure `ratio` compares with. */
  torchMeasure?: string;
  /** ours images/s ÷ PyTorch images/s: ≥ 1 means at least as fast as PyTorch. */
  ratio?: number;
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
  backend: { name: string; fastKernels: boolean; simd: boolean; wasmThreads: boolean };
  torch?: { threads: number; logitsMaxDiff: number } | { unavailable: string };
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

/** measure | ours (ms, images/s) | [stock] | PyTorch (ms, images/s) | ratio. */
export function renderTable(report: BenchReport): string {
  const withStock = report.results.some((r) => r.stock !== undefined);
  const header = [
    'measure',
    'images',
    'ours',
    'ours img/s',
    ...(withStock ? ['stock wasm', 'stock img/s'] : []),
    'PyTorch',
    'PyTorch img/s',
    'ours/PyTorch',
  ];
  const rows = report.results.map((r) => [
    r.measure,
    String(r.images),
    ms(r.ours),
    rate(r.ours),
    ...(withStock ? [ms(r.stock), rate(r.stock)] : []),
    r.torch ? ms(r.torch) : r.torchMeasure ? `(${r.torchMeasure})` : '—',
    rate(r.torch),
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
  ]);
  return table(header, rows);
}

/** Per measure: the earlier median, this one, and the change. */
export function renderComparison(before: BenchReport, after: BenchReport): string {
  const rows = after.results.map((r) => {
    const old = before.results.find((b) => b.measure === r.measure);
    const a = r.ours?.medianMs;
    const b = old?.ours?.medianMs;
    const change = a !== undefined && b !== undefined ? `${(((a - b) / b) * 100).toFixed(1)}%` : '—';
    return [r.measure, ms(old?.ours), ms(r.ours), change, old?.ratio === undefined ? '—' : `${old.ratio.toFixed(2)}×`, r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`];
  });
  return table(['measure', `ours ${before.date.slice(0, 10)}`, 'ours now', 'time change', 'ratio then', 'ratio now'], rows);
}
