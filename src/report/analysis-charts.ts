import type { TopLevelSpec } from 'vega-lite';
import type { ConvergenceTrace, PerClassFigures, Report } from '../harness/report.js';
import { formatEps } from '../harness/format.js';
import { denseConfusion, WORST_CASE } from './breakdown.js';
import { className } from './captions.js';
import type { FellAtDistribution } from './fell-at.js';
import { CARD_WIDTH, CHART_CONFIG, COLOURS } from './vega-svg.js';

const epsLabel = (eps: number) => `ε = ${formatEps(eps)}`;

/** The figures a chart shows for a report: every attack, or with several the worst case too. */
export function perClassSeries(report: Report): string[] {
  return [...new Set((report.perClass ?? []).map((p) => seriesName(report, p.attack)))];
}

/** "+ pgd" for a later attack of a sequential suite (its figures are cumulative), as in the curves. */
function seriesName(report: Report, attack: string): string {
  const sequential = report.config.mode === 'sequential' && report.config.attacks.length > 1;
  return sequential && attack !== WORST_CASE && attack !== report.config.attacks[0]?.name ? `+ ${attack}` : attack;
}

/**
 * Small multiples, one per ε: robust accuracy per true class, a bar per attack (and the worst
 * case), so that a class the attacks single out stands out.
 */
export function perClassSpec(report: Report, classNames?: readonly string[]): TopLevelSpec {
  const rows = (report.perClass ?? []).flatMap((p: PerClassFigures) =>
    p.n.map((n, k) => ({ panel: epsLabel(p.eps), eps: p.eps, series: seriesName(report, p.attack), cls: className(k, classNames), order: k, accuracy: n === 0 ? 0 : p.robust[k]! / n })).filter((_, k) => p.n[k]! > 0),
  );
  const series = perClassSeries(report);
  const panels = [...new Set(rows.map((r) => r.eps))].sort((a, b) => a - b).map(epsLabel);
  const perPanel = Math.max(150, Math.floor((CARD_WIDTH - 60) / Math.max(1, Math.min(panels.length, 4))) - 40);
  return {
    background: 'white',
    padding: 8,
    description: 'Robust accuracy per true class, per ε and attack',
    config: CHART_CONFIG,
    data: { values: rows },
    facet: { field: 'panel', type: 'ordinal', title: null, sort: panels },
    columns: 4,
    spec: {
      width: perPanel,
      height: 170,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'cls', type: 'ordinal', title: 'true class', sort: { field: 'order', op: 'min' }, axis: { labelAngle: 0 } },
        xOffset: { field: 'series', type: 'nominal', sort: series },
        y: { field: 'accuracy', type: 'quantitative', title: 'robust accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 5 } },
        color: { field: 'series', type: 'nominal', title: null, sort: series, scale: { domain: series, range: series.map((s, i) => (s === WORST_CASE ? '#222222' : COLOURS[i % COLOURS.length]!)) }, legend: { orient: 'top' } },
        tooltip: [{ field: 'series' }, { field: 'cls' }, { field: 'accuracy', format: '.1%' }],
      },
    },
  } as TopLevelSpec;
}

/** Heatmaps, one per ε, of clean label → adversarial prediction for one series; counts printed in the cells. */
export function confusionSpec(report: Report, series: string, k: number, classNames?: readonly string[]): TopLevelSpec {
  const cells = (report.confusion ?? []).filter((c) => c.attack === series).sort((a, b) => a.eps - b.eps);
  const values = cells.flatMap((c) =>
    denseConfusion(c, k).flatMap((row, y) => row.map((count, p) => ({ panel: epsLabel(c.eps), label: className(y, classNames), predicted: className(p, classNames), ly: y, lp: p, count, diagonal: y === p }))),
  );
  const side = Math.max(140, Math.min(260, Math.floor((CARD_WIDTH - 80) / Math.max(1, cells.length)) - 50));
  return {
    background: 'white',
    padding: 8,
    description: `Clean label → adversarial prediction, ${series}, per ε`,
    config: { ...CHART_CONFIG, view: { stroke: null } },
    data: { values },
    facet: { field: 'panel', type: 'ordinal', title: null, sort: cells.map((c) => epsLabel(c.eps)) },
    columns: 4,
    spec: {
      width: side,
      height: side,
      encoding: {
        x: { field: 'predicted', type: 'ordinal', title: 'adversarial prediction', sort: { field: 'lp', op: 'min' }, axis: { labelAngle: 0 } },
        y: { field: 'label', type: 'ordinal', title: 'true class', sort: { field: 'ly', op: 'min' } },
      },
      layer: [
        {
          mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 0.5 },
          encoding: { color: { field: 'count', type: 'quantitative', title: 'examples', scale: { scheme: 'blues', type: 'sqrt' } } },
        },
        {
          transform: [{ filter: 'datum.count > 0' }],
          mark: { type: 'text', fontSize: k > 12 ? 8 : 10 },
          encoding: { text: { field: 'count' }, color: { condition: { test: 'datum.diagonal', value: '#b3261e' }, value: '#1d2330' } },
        },
      ],
    },
  } as TopLevelSpec;
}

/** The smallest breaking ε: a histogram (wrong clean at 0, "held" past the largest ε) beside its CDF with the median. */
export function fellAtSpec(dist: FellAtDistribution): TopLevelSpec {
  const bars = [
    ...dist.histogram.map((h) => ({ bin: h.eps === 0 ? '0 (wrong clean)' : formatEps(h.eps), order: h.eps, count: h.count, kind: h.eps === 0 ? 'wrong clean' : 'fell' })),
    { bin: 'held', order: Infinity, count: dist.held, kind: 'held' },
  ].map((b, i) => ({ ...b, order: i }));
  const cdf = dist.cdf.map((c) => ({ eps: c.eps, fraction: c.fraction }));
  const median = dist.median.value === null ? [] : [{ eps: dist.median.value, lo: dist.median.interval[0] ?? dist.median.value, hi: dist.median.interval[1] ?? Math.max(...dist.epsilons) }];
  const half = Math.floor((CARD_WIDTH - 120) / 2);
  return {
    background: 'white',
    padding: 8,
    description: 'Distribution of the smallest ε at which each example was fooled',
    config: CHART_CONFIG,
    hconcat: [
      {
        width: half,
        height: 240,
        title: { text: 'examples per smallest breaking ε', fontSize: 12, anchor: 'start' },
        data: { values: bars },
        encoding: {
          x: { field: 'bin', type: 'ordinal', title: 'smallest ε that fooled the example', sort: { field: 'order', op: 'min' }, axis: { labelAngle: 0 } },
          y: { field: 'count', type: 'quantitative', title: 'examples' },
        },
        layer: [
          { mark: { type: 'bar' }, encoding: { color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['wrong clean', 'fell', 'held'], range: ['#bab0ac', '#e15759', '#59a14f'] }, legend: { orient: 'top-right' } } } },
          { mark: { type: 'text', dy: -7, fontSize: 11 }, encoding: { text: { field: 'count' } } },
        ],
      },
      {
        width: half,
        height: 240,
        title: { text: 'fraction fooled at or below ε (CDF)', fontSize: 12, anchor: 'start' },
        layer: [
          ...(median.length > 0
            ? [
                { data: { values: median }, mark: { type: 'rect', opacity: 0.15, color: '#4e79a7' }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
                { data: { values: median }, mark: { type: 'rule', strokeDash: [4, 3], color: '#4e79a7', strokeWidth: 1.5 }, encoding: { x: { field: 'eps', type: 'quantitative' } } },
              ]
            : []),
          {
            data: { values: cdf },
            mark: { type: 'line', interpolate: 'step-after', point: { filled: true, size: 45 }, color: '#e15759', strokeWidth: 2 },
            encoding: {
              x: { field: 'eps', type: 'quantitative', title: 'ε', scale: { zero: true, nice: false } },
              y: { field: 'fraction', type: 'quantitative', title: 'fraction of examples', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
            },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/**
 * Per iterative attack (columns), how the robust fraction and the mean loss evolved over the
 * iterations, a line per ε.
 */
export function convergenceSpec(traces: ConvergenceTrace[]): TopLevelSpec {
  const rows = traces.flatMap((t) => t.iterations.map((it) => ({ attack: t.attack, eps: formatEps(t.eps), epsValue: t.eps, iteration: it.iteration, robust: it.robust, loss: it.meanLoss })));
  const attacks = [...new Set(traces.map((t) => t.attack))];
  const eps = [...new Set(traces.map((t) => t.eps))].sort((a, b) => a - b).map(formatEps);
  const width = Math.max(220, Math.floor((CARD_WIDTH - 80) / Math.max(1, attacks.length)) - 70);
  const colour = { field: 'eps', type: 'ordinal', title: 'ε', sort: eps, scale: { scheme: 'viridis' } } as const;
  const panel = (field: 'robust' | 'loss', title: string, format?: string) => ({
    facet: { column: { field: 'attack', type: 'nominal', title: null, sort: attacks, header: field === 'loss' ? { labels: false } : {} } },
    spec: {
      width,
      height: 170,
      mark: { type: 'line', point: { size: 18 }, strokeWidth: 2 },
      encoding: {
        x: { field: 'iteration', type: 'quantitative', title: 'iteration', axis: { format: 'd', tickMinStep: 1 } },
        y: { field, type: 'quantitative', title, ...(format ? { axis: { format }, scale: { domain: [0, 1] } } : { scale: { zero: false } }) },
        color: colour,
      },
    },
  });
  return {
    background: 'white',
    padding: 8,
    description: 'Convergence of the iterative attacks: robust fraction and mean loss per iteration',
    config: CHART_CONFIG,
    data: { values: rows },
    vconcat: [panel('robust', 'still robust (of attacked)', '.0%'), panel('loss', 'mean loss')],
  } as TopLevelSpec;
}
