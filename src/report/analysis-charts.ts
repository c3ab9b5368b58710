import type { TopLevelSpec } from 'vega-lite';
import type { ConvergenceTrace, PerClassFigures, Report } from '../harness/report-types.js';
import { formatEps } from '../number-format.js';
import { denseConfusion, WORST_CASE } from './breakdown.js';
import { className } from './captions.js';
import type { FellAtDistribution } from './fell-at.js';
import type { MinimalDistribution } from './minimal-distribution.js';
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
        x: { field: 'cls', type: 'ordinal', title: 'true class', sort: { field: 'order', op: 'min' }, axis: { labelAngle: rows.some((r) => r.cls.length > 3) ? -40 : 0, labelLimit: 90 } },
        xOffset: { field: 'series', type: 'nominal', sort: series },
        y: { field: 'accuracy', type: 'quantitative', title: 'robust accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 5 } },
        color: { field: 'series', type: 'nominal', title: null, sort: series, scale: { domain: series, range: series.map((s, i) => (s === WORST_CASE ? '#222222' : COLOURS[i % COLOURS.length]!)) }, legend: { orient: 'top' } },
        tooltip: [{ field: 'series' }, { field: 'cls' }, { field: 'accuracy', format: '.1%' }],
      },
    },
  } as TopLevelSpec;
}

/** Classes from which the bars per class per ε give way to one heatmap (and the confusion heatmaps to a table). */
export const MANY_CLASSES = 20;

/**
 * With many classes: one heatmap of the headline series' robust accuracy, a column per class
 * (those with examples) and a row per ε, so that 100 classes still fit the card's width.
 */
export function perClassHeatmapSpec(report: Report, series: string, classNames?: readonly string[]): TopLevelSpec {
  const figures = (report.perClass ?? []).filter((p) => p.attack === series).sort((a, b) => a.eps - b.eps);
  const values = figures.flatMap((p) =>
    p.n.flatMap((n, k) => (n === 0 ? [] : [{ eps: epsLabel(p.eps), cls: className(k, classNames), order: k, accuracy: p.robust[k]! / n, n, robust: p.robust[k]! }])),
  );
  const classes = new Set(values.map((v) => v.order)).size;
  const cell = Math.max(6, Math.min(28, Math.floor((CARD_WIDTH - 200) / Math.max(1, classes))));
  return {
    background: 'white',
    padding: 8,
    description: `Robust accuracy per true class (${series}), a column per class and a row per ε`,
    title: { text: `${series}: robust accuracy per class`, anchor: 'start', fontSize: 12 },
    config: CHART_CONFIG,
    data: { values },
    width: cell * classes,
    height: 22 * figures.length,
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'cls', type: 'ordinal', title: `true class (${classes})`, sort: { field: 'order', op: 'min' }, axis: { labelAngle: -90, labelFontSize: Math.min(11, cell + 2), labelLimit: 110 } },
      y: { field: 'eps', type: 'ordinal', title: null, sort: figures.map((p) => epsLabel(p.eps)) },
      color: { field: 'accuracy', type: 'quantitative', title: 'robust', scale: { domain: [0, 1], scheme: 'viridis' }, legend: { format: '.0%', orient: 'right' } },
      tooltip: [{ field: 'cls', title: 'class' }, { field: 'eps', title: 'ε' }, { field: 'accuracy', format: '.1%' }, { field: 'robust' }, { field: 'n' }],
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
  // Restarts continue to the right of the run before them, their robust fraction on the first
  // run's scale (they attack only the examples left standing), each run a line of its own.
  const rows = traces.flatMap((t) => {
    let offset = 0;
    return [{ run: 0, n: t.n, iterations: t.iterations }, ...(t.restarts ?? [])].flatMap((r) => {
      const points = r.iterations.map((it) => ({ attack: t.attack, eps: formatEps(t.eps), epsValue: t.eps, line: `${t.attack} ${t.eps} ${r.run}`, run: r.run, iteration: offset + it.iteration, robust: t.n === 0 ? 0 : (it.robust * r.n) / t.n, loss: it.meanLoss }));
      offset += r.iterations.at(-1)?.iteration ?? 0;
      return points;
    });
  });
  const restarts = traces.some((t) => (t.restarts ?? []).length > 0);
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
        x: { field: 'iteration', type: 'quantitative', title: restarts ? 'iteration (each restart after the run before it)' : 'iteration', axis: { format: 'd', tickMinStep: 1 } },
        y: { field, type: 'quantitative', title, ...(format ? { axis: { format }, scale: { domain: [0, 1] } } : { scale: { zero: false } }) },
        color: colour,
        detail: { field: 'line' },
      },
    },
  });
  return {
    background: 'white',
    padding: 8,
    description: 'Convergence of the iterative attacks: robust fraction and mean loss per iteration',
    config: CHART_CONFIG,
    data: { values: rows },
    vconcat: [panel('robust', 'still robust (of attacked)', '.0%'), panel('loss', restarts ? 'mean loss (of the run)' : 'mean loss')],
  } as TopLevelSpec;
}

/**
 * Small multiples (a row per attack, a column per ε) of the clean and the adversarial histograms
 * of one quantity, overlaid; for the margin a rule at 0, the decision boundary.
 */
export function marginSpec(report: Report, what: 'margin' | 'confidence'): TopLevelSpec {
  const cells = report.margins ?? [];
  const values = cells.flatMap((m) => {
    const h = m[what];
    return (['clean', 'adversarial'] as const).flatMap((series) =>
      h[series].map((count, k) => ({ attack: seriesName(report, m.attack), eps: epsLabel(m.eps), series, x0: h.edges[k]!, x1: h.edges[k + 1]!, count })),
    );
  });
  const attacks = [...new Set(cells.map((m) => seriesName(report, m.attack)))];
  const eps = [...new Set(cells.map((m) => m.eps))].sort((a, b) => a - b).map(epsLabel);
  const width = Math.max(150, Math.floor((CARD_WIDTH - 110) / Math.max(1, eps.length)) - 30);
  // Short: the axis title repeats under every column; the caption says what the margin is.
  const title = what === 'margin' ? 'logit margin' : 'top-1 probability';
  const bars = {
    mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
    encoding: {
      x: { field: 'x0', type: 'quantitative', title, bin: { binned: true }, ...(what === 'confidence' ? { scale: { domain: [0, 1] } } : {}) },
      x2: { field: 'x1' },
      y: { field: 'count', type: 'quantitative', title: 'examples', stack: null },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['clean', 'adversarial'], range: ['#4e79a7', '#e15759'] }, legend: { orient: 'top' } },
      tooltip: [{ field: 'series' }, { field: 'x0', title: 'from' }, { field: 'x1', title: 'to' }, { field: 'count' }],
    },
  };
  const zero = { mark: { type: 'rule', color: '#1d2330', strokeDash: [4, 3] }, encoding: { x: { datum: 0, type: 'quantitative' } } };
  return {
    background: 'white',
    padding: 8,
    description: `${what === 'margin' ? 'Logit margin' : 'Confidence'} histograms, clean vs adversarial, per attack and ε`,
    config: CHART_CONFIG,
    data: { values },
    facet: {
      row: { field: 'attack', type: 'nominal', title: null, sort: attacks },
      column: { field: 'eps', type: 'ordinal', title: null, sort: eps },
    },
    spec: { width, height: 120, layer: what === 'margin' ? [bars, zero] : [bars] },
  } as TopLevelSpec;
}

/**
 * The traced examples (--trace): per iterative attack and ε (columns), each example's loss and,
 * below, its margin per iteration, a line per example; a margin below the rule at 0 is a success.
 */
export function traceSpec(report: Report): TopLevelSpec {
  const traces = report.traces ?? [];
  const rows = traces.flatMap((t) =>
    t.loss.flatMap((loss, iteration) => (loss === null && t.margin[iteration] === null ? [] : [{ cell: `${seriesName(report, t.attack)} ${epsLabel(t.eps)}`, example: t.id, iteration, loss, margin: t.margin[iteration] ?? null }])),
  );
  const cells = [...new Set(rows.map((r) => r.cell))];
  const width = Math.max(200, Math.floor((CARD_WIDTH - 160) / Math.max(1, Math.min(cells.length, 4))) - 40);
  const panel = (field: 'loss' | 'margin') => ({
    facet: { column: { field: 'cell', type: 'nominal', title: null, sort: cells, header: field === 'margin' ? { labels: false } : {} } },
    spec: {
      width,
      height: 150,
      layer: [
        {
          transform: [{ filter: `datum.${field} !== null` }],
          mark: { type: 'line', point: { size: 14 }, strokeWidth: 1.5 },
          encoding: {
            x: { field: 'iteration', type: 'quantitative', title: 'iteration', axis: { format: 'd', tickMinStep: 1 } },
            y: { field, type: 'quantitative', title: field === 'loss' ? 'loss' : 'margin', scale: { zero: false } },
            color: { field: 'example', type: 'nominal', title: 'example', scale: { range: COLOURS } },
          },
        },
        ...(field === 'margin' ? [{ mark: { type: 'rule', color: '#1d2330', strokeDash: [4, 3] }, encoding: { y: { datum: 0, type: 'quantitative' } } }] : []),
      ],
    },
  });
  return {
    background: 'white',
    padding: 8,
    description: 'Loss and margin per iteration of the traced examples, per attack and ε',
    config: CHART_CONFIG,
    data: { values: rows },
    vconcat: [panel('loss'), ...(rows.some((r) => r.margin !== null) ? [panel('margin')] : [])],
  } as TopLevelSpec;
}

/**
 * Per minimal attack (a row each): the histogram of the smallest perturbation it found per
 * example, and its CDF with the median (solid) and mean (dashed) and, as rings, the fraction the
 * harness judged fooled at each evaluated ε, which must sit on the CDF.
 */
export function minimalSpec(dists: MinimalDistribution[]): TopLevelSpec {
  const half = Math.floor((CARD_WIDTH - 140) / 2);
  const normLabel = (n: string) => (n === 'linf' ? 'L∞' : n.toUpperCase());
  const row = (d: MinimalDistribution) => {
    const lines = [
      ...(d.median !== null ? [{ value: d.median, what: 'median' }] : []),
      ...(d.mean !== null ? [{ value: d.mean, what: 'mean (of found)' }] : []),
    ];
    const rule = (values: typeof lines) => ({
      data: { values },
      mark: { type: 'rule', strokeWidth: 1.5, color: '#1d2330' },
      encoding: { x: { field: 'value', type: 'quantitative' }, strokeDash: { field: 'what', type: 'nominal', title: null, scale: { domain: ['median', 'mean (of found)'], range: [[1, 0], [5, 3]] }, legend: { orient: 'top-right' } } },
    });
    const x = { type: 'quantitative', title: `smallest ${normLabel(d.norm)} perturbation found`, scale: { zero: true, nice: false } } as const;
    return {
      hconcat: [
        {
          width: half,
          height: 190,
          title: { text: `${d.attack}: examples per distance (${d.found} of ${d.of} found)`, fontSize: 12, anchor: 'start' },
          layer: [
            { data: { values: d.histogram }, mark: { type: 'bar', color: '#4e79a7', opacity: 0.8, binSpacing: 1 }, encoding: { x: { field: 'from', ...x, bin: { binned: true } }, x2: { field: 'to' }, y: { field: 'count', type: 'quantitative', title: 'examples', axis: { tickMinStep: 1, format: 'd' } } } },
            rule(lines),
          ],
        },
        {
          width: half,
          height: 190,
          title: { text: `${d.attack}: fraction fooled within a budget (CDF)`, fontSize: 12, anchor: 'start' },
          layer: [
            { data: { values: d.cdf }, mark: { type: 'line', interpolate: 'step-after', color: '#e15759', strokeWidth: 2 }, encoding: { x: { field: 'eps', ...x, title: `ε (${normLabel(d.norm)})` }, y: { field: 'fraction', type: 'quantitative', title: 'fraction of examples', scale: { domain: [0, 1] }, axis: { format: '.0%' } } } },
            ...(d.evaluated.length > 0
              ? [{ data: { values: d.evaluated }, mark: { type: 'point', filled: false, size: 90, strokeWidth: 2, color: '#1d2330' }, encoding: { x: { field: 'eps', type: 'quantitative' }, y: { field: 'fraction', type: 'quantitative' }, tooltip: [{ field: 'eps', title: 'evaluated ε' }, { field: 'fraction', format: '.1%' }] } }]
              : []),
            rule(lines),
          ],
        },
      ],
    };
  };
  return {
    background: 'white',
    padding: 8,
    description: 'Distributions of the smallest perturbation found by the minimal attacks',
    config: CHART_CONFIG,
    vconcat: dists.map(row),
  } as TopLevelSpec;
}
