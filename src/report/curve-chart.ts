import type { TopLevelSpec } from 'vega-lite';
import type { Report } from '../harness/report-types.js';
import { CHART_CONFIG, COLOURS, specToSvg } from './vega-svg.js';

/** One point of a plotted curve: accuracy at ε with its 95% interval. */
export interface CurvePoint {
  series: string;
  eps: number;
  accuracy: number;
  lo: number;
  hi: number;
}

const WORST = 'worst case';

/** Series label of an attack: in a sequential suite, later rows are cumulative ("+ pgd"). */
function seriesName(report: Report, attack: string): string {
  const first = report.config.attacks[0]?.name;
  return report.config.mode === 'sequential' && report.config.attacks.length > 1 && attack !== first ? `+ ${attack}` : attack;
}

/**
 * Accuracy against ε per attack, and the worst case when there are several attacks. Each curve
 * starts at ε = 0 with the clean accuracy, which is what every attack achieves with no budget.
 */
export function curvePoints(report: Report): CurvePoint[] {
  const clean = report.clean;
  const start = (series: string): CurvePoint[] =>
    report.config.epsilons.includes(0) ? [] : [{ series, eps: 0, accuracy: clean.accuracy, lo: clean.interval[0], hi: clean.interval[1] }];
  const out: CurvePoint[] = [];
  for (const attack of report.config.attacks.map((a) => a.name)) {
    const series = seriesName(report, attack);
    out.push(...start(series));
    for (const r of report.results.filter((x) => x.attack === attack).sort((a, b) => a.eps - b.eps)) {
      out.push({ series, eps: r.eps, accuracy: r.accuracy, lo: r.interval[0], hi: r.interval[1] });
    }
  }
  if (report.config.attacks.length > 1) {
    out.push(...start(WORST));
    for (const w of [...report.worstCase].sort((a, b) => a.eps - b.eps)) out.push({ series: WORST, eps: w.eps, accuracy: w.accuracy, lo: w.interval[0], hi: w.interval[1] });
  }
  return out;
}

/** Marker shapes: a series that coincides with another still shows its own mark. */
const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'wedge', 'stroke'];

/**
 * Where each series' name goes at the right end of its line: as near its last accuracy as it can
 * be with every two names at least `gap` apart (in accuracy units) and all inside [0, 1]. Ends that
 * crowd together spread both ways around their middle, not only down; names away from a crowd stay
 * put. Least squares: with the names top to bottom and w_i = y_i + i·gap, the gaps say w must not
 * increase and the bounds say w_i ∈ [(n − 1)·gap, 1]; the pool adjacent violators algorithm gives
 * the best non-increasing w, and clipping it to the bounds keeps it best. When the names cannot
 * all fit, the lowest sits at 0.
 */
export function endLabels(points: CurvePoint[], gap = 0.055): { series: string; eps: number; accuracy: number; y: number }[] {
  const series = [...new Set(points.map((p) => p.series))];
  const ends = series.map((s) => {
    const last = points.filter((p) => p.series === s).sort((a, b) => a.eps - b.eps).at(-1)!;
    return { series: s, eps: last.eps, accuracy: last.accuracy, y: last.accuracy };
  });
  const sorted = [...ends].sort((a, b) => b.accuracy - a.accuracy);
  // Blocks of labels that touch: the mean of their shifted targets, and how many they hold.
  const blocks: { mean: number; count: number }[] = [];
  sorted.forEach((e, i) => {
    blocks.push({ mean: e.accuracy + i * gap, count: 1 });
    while (blocks.length > 1 && blocks.at(-1)!.mean > blocks.at(-2)!.mean) {
      const b = blocks.pop()!;
      const a = blocks.at(-1)!;
      a.mean = (a.mean * a.count + b.mean * b.count) / (a.count + b.count);
      a.count += b.count;
    }
  });
  const lowest = (sorted.length - 1) * gap;
  const clip = (w: number) => Math.max(lowest, Math.min(1, w));
  let i = 0;
  for (const b of blocks) for (let k = 0; k < b.count; k++, i++) sorted[i]!.y = clip(b.mean) - i * gap;
  return ends;
}

/**
 * The vega-lite specification of the curves chart: lines over 95% interval bands, a marker of its
 * own shape per series (the worst case as a ring, so that an attack equal to it shows inside),
 * and each series named at the end of its line.
 */
export function curveSpec(report: Report, size: { width: number; height: number } = { width: 940, height: 360 }): TopLevelSpec {
  const points = curvePoints(report);
  const series = [...new Set(points.map((p) => p.series))];
  const colours = series.map((s, i) => (s === WORST ? '#222222' : COLOURS[i % COLOURS.length]!));
  const dashes = series.map((s) => (s === WORST ? [6, 3] : [1, 0]));
  const shapes = series.map((s, i) => (s === WORST ? 'circle' : SHAPES[i % SHAPES.length]!));
  const norms = [...new Set(report.config.attacks.map((a) => a.norm))];
  // The series are named at the ends of their lines (direct labels), so no legend to look up.
  const legend = null;
  const colour = { field: 'series', type: 'nominal', title: null, scale: { domain: series, range: colours }, legend } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'robust accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 6 } } as const;
  return {
    width: size.width,
    height: size.height,
    background: 'white',
    // Room on the right for the names at the ends of the lines.
    padding: { left: 8, top: 8, bottom: 8, right: 110 },
    description: 'Robust accuracy against the perturbation budget ε, per attack and for the worst case, with 95% Wilson intervals',
    config: CHART_CONFIG,
    encoding: {
      x: { field: 'eps', type: 'quantitative', title: `ε (${norms.map((n) => (n === 'linf' ? 'L∞' : n === 'l0' ? 'L0, pixels' : n === 'patch' ? 'patch area' : n.toUpperCase())).join(', ')})`, scale: { zero: true, nice: false } },
    },
    layer: [
      { data: { values: points }, mark: { type: 'area', opacity: 0.12, interpolate: 'linear' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: colour } },
      {
        data: { values: points },
        mark: { type: 'line', strokeWidth: 2.25 },
        encoding: { y, color: colour, strokeDash: { field: 'series', type: 'nominal', title: null, scale: { domain: series, range: dashes }, legend } },
      },
      {
        data: { values: points.filter((p) => p.series === WORST) },
        mark: { type: 'point', filled: false, size: 150, strokeWidth: 2, opacity: 1 },
        encoding: { y, color: colour },
      },
      {
        data: { values: points.filter((p) => p.series !== WORST) },
        mark: { type: 'point', filled: true, size: 55, opacity: 1 },
        encoding: { y, color: colour, shape: { field: 'series', type: 'nominal', scale: { domain: series, range: shapes }, legend } },
      },
      {
        data: { values: endLabels(points) },
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 10, fontSize: 12, fontWeight: 600 },
        encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'series' }, color: colour },
      },
    ],
  } as TopLevelSpec;
}

/** The curves as a standalone SVG string, rendered in Node by vega's headless SVG renderer. */
export async function renderCurvesSvg(report: Report): Promise<string> {
  return specToSvg(curveSpec(report));
}
