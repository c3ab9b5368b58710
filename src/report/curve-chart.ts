import type { TopLevelSpec } from 'vega-lite';
import type { Report } from '../harness/report.js';

/** One point of a plotted curve: accuracy at ε with its 95% interval. */
export interface CurvePoint {
  series: string;
  eps: number;
  accuracy: number;
  lo: number;
  hi: number;
}

const WORST = 'worst case';
/** Tableau 10, the usual categorical scheme; the worst case is drawn in near-black. */
const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

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

/** The vega-lite specification of the curves chart (lines with points over 95% interval bands). */
export function curveSpec(report: Report, size: { width: number; height: number } = { width: 760, height: 340 }): TopLevelSpec {
  const points = curvePoints(report);
  const series = [...new Set(points.map((p) => p.series))];
  const colours = series.map((s, i) => (s === WORST ? '#222222' : COLOURS[i % COLOURS.length]!));
  const dashes = series.map((s) => (s === WORST ? [6, 3] : [1, 0]));
  const norms = [...new Set(report.config.attacks.map((a) => a.norm))];
  const colour = { field: 'series', type: 'nominal', title: null, scale: { domain: series, range: colours }, legend: { orient: 'top-right', labelFontSize: 12, symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1, symbolSize: 320, fillColor: '#ffffffcc', padding: 6 } } as const;
  return {
    width: size.width,
    height: size.height,
    background: 'white',
    padding: 8,
    description: 'Robust accuracy against the perturbation budget ε, per attack and for the worst case, with 95% Wilson intervals',
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' }, view: { stroke: '#cccccc' } },
    data: { values: points },
    encoding: {
      x: { field: 'eps', type: 'quantitative', title: `ε (${norms.map((n) => (n === 'linf' ? 'L∞' : n.toUpperCase())).join(', ')})`, scale: { zero: true, nice: false } },
      color: colour,
    },
    layer: [
      { mark: { type: 'area', opacity: 0.14, interpolate: 'linear' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      {
        mark: { type: 'line', strokeWidth: 2.25, point: { filled: true, size: 45 } },
        encoding: {
          y: { field: 'accuracy', type: 'quantitative', title: 'robust accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 6 } },
          strokeDash: { field: 'series', type: 'nominal', title: null, scale: { domain: series, range: dashes }, legend: colour.legend },
        },
      },
    ],
  };
}

/** The curves as a standalone SVG string, rendered in Node by vega's headless SVG renderer. */
export async function renderCurvesSvg(report: Report): Promise<string> {
  // Loaded on first use: vega takes about 0.3 s to import, which every other command would pay.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(curveSpec(report)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
