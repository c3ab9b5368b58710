import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../errors.js';
import type { Report, SanityCheck } from '../harness/report-types.js';
import { perClassFigures, predictionsAt, WORST_CASE } from './breakdown.js';
import { classDeltas as perClassDeltas, type ClassDelta } from './class-deltas.js';
import { curvePoints, endLabels, type CurvePoint } from './curve-chart.js';
import { CARD_WIDTH, CHART_CONFIG, COLOURS } from './vega-svg.js';

/** One run of a comparison: a report and the name it goes by on the page. */
export interface ComparedRun {
  label: string;
  file?: string;
  report: Report;
}

/** Per (series, ε), the examples robust in the first run and not in another (lost), and the reverse. */
export interface LostGainedRow {
  run: string;
  series: string;
  eps: number;
  before: number;
  after: number;
  n: number;
  lost: string[];
  gained: string[];
}

export interface Comparison {
  runs: ComparedRun[];
  /** Per-example comparisons need the same examples: false when the data fingerprints differ. */
  sameExamples: boolean;
  lostGained: LostGainedRow[];
  /** Per class, series and ε, each run against the first (class-deltas.ts, shared with the check). */
  classDeltas: ClassDelta[];
  sanity: { run: string; checks: SanityCheck[] }[];
}

/** Names that tell runs apart: the file names, made unique with their folders when needed. */
export function runLabels(files: string[]): string[] {
  const base = files.map((f) => path.basename(f, '.json'));
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? path.join(path.basename(path.dirname(path.resolve(files[i]!))), b) : b));
}

/** Per example, robust under the series at ε (correct clean and still correct). */
function robustAt(report: Report, series: string, eps: number): boolean[] | undefined {
  const preds = predictionsAt(report, series, eps);
  if (!preds) return undefined;
  const ex = report.examples;
  return ex.labels.map((y, i) => ex.cleanPredictions[i] === y && preds[i] === y);
}

/** The series every run has in common at ε, the worst case last. */
function commonSeries(runs: ComparedRun[]): { series: string; eps: number }[] {
  const keys = (r: Report) => [...r.examples.results.map((c) => `${c.attack}\u0000${c.eps}`), ...r.config.epsilons.map((e) => `${WORST_CASE}\u0000${e}`)];
  const shared = runs.map((r) => new Set(keys(r.report))).reduce((a, b) => new Set([...a].filter((k) => b.has(k))));
  return [...shared].map((k) => {
    const [series, eps] = k.split('\u0000');
    return { series: series!, eps: Number(eps) };
  });
}

/**
 * Compares runs against the first: curves side by side, per example what was lost and gained
 * (same examples only, matched by id), per-class changes of every series, every sanity check.
 */
export function compareRuns(runs: ComparedRun[]): Comparison {
  if (runs.length < 2) throw new UserError(`compare needs at least two reports, got ${runs.length}: give a.json b.json`);
  const [base, ...others] = runs;
  const sameExamples = others.every((r) => r.report.data.fingerprint === base!.report.data.fingerprint);
  const lostGained: LostGainedRow[] = [];
  const classDeltas: ClassDelta[] = [];
  if (sameExamples) {
    const series = commonSeries(runs);
    for (const other of others) {
      // Matched by id: shard order or a resumed run must not pair the wrong examples.
      const position = new Map(other.report.examples.ids.map((id, i) => [id, i]));
      const ids = base!.report.examples.ids;
      for (const { series: s, eps } of series) {
        const a = robustAt(base!.report, s, eps);
        const b = robustAt(other.report, s, eps);
        if (!a || !b) continue;
        const lost: string[] = [];
        const gained: string[] = [];
        ids.forEach((id, i) => {
          const j = position.get(id);
          if (j === undefined) return;
          if (a[i] && !b[j]) lost.push(id);
          if (!a[i] && b[j]) gained.push(id);
        });
        lostGained.push({ run: other.label, series: s, eps, before: a.filter(Boolean).length, after: b.filter(Boolean).length, n: ids.length, lost, gained });
      }
      // Reports of older versions hold no perClass: their per-example predictions give it.
      const counts = (r: Report) => r.perClass ?? perClassFigures(r);
      classDeltas.push(...perClassDeltas(other.label, counts(base!.report), counts(other.report)));
    }
  }
  return { runs, sameExamples, lostGained, classDeltas, sanity: runs.map((r) => ({ run: r.label, checks: r.report.sanity ?? [] })) };
}

/** The curves of one run, named as the chart's legend shows it. */
export interface RunCurves {
  label: string;
  points: CurvePoint[];
}

/** Every run's curves on one chart: colour per run, dashed for the worst case, a marker shape per attack. */
export function compareCurveSpec(runs: ComparedRun[]): TopLevelSpec {
  return runCurvesSpec(runs.map((r) => ({ label: r.label, points: curvePoints(r.report) })));
}

/** The bench page's form of runCurvesSpec's chart: its axis title and description. */
export interface OneCurveEach {
  xTitle: string;
  /** Default: worst-case robust accuracy. */
  yTitle?: string;
  description: string;
  /** A logarithmic x axis ticked at the points' x values (training examples, which double from point to point). */
  xLog?: boolean;
}

/**
 * The chart of compareCurveSpec from the series alone (a check's baseline file holds no Report).
 * With `one` (the bench page), each run is one worst-case curve over its 95% band, named by the run
 * alone, with a marker shape per run so that coinciding curves still show their own marks.
 */
export function runCurvesSpec(runs: RunCurves[], one?: OneCurveEach): TopLevelSpec {
  const points = runs.flatMap((r) =>
    r.points.map((p) => (one ? { ...p, series: r.label, run: r.label, line: r.label } : { ...p, run: r.label, line: `${r.label} · ${p.series}`, kind: p.series === WORST_CASE ? 'worst case' : 'attack' })),
  );
  const labels = runs.map((r) => r.label);
  const height = one ? 360 : 380;
  // Names in one column right of the plot, in the order of the lines' ends and pushed apart where
  // those crowd: lines that end early (less training time) would put names over the others' lines.
  const right = Math.max(...points.map((p) => p.eps));
  // 15 px between names of 11–12 px type.
  const ends = endLabels(points.map((p) => ({ ...p, series: p.line })), 15 / height).map((e) => ({ ...e, eps: right, line: e.series, run: points.find((p) => p.line === e.series)!.run }));
  const scale = { domain: labels, range: labels.map((_, i) => COLOURS[i % COLOURS.length]!) };
  const colour = one ? ({ field: 'series', type: 'nominal', title: null, scale, legend: null } as const) : ({ field: 'run', type: 'nominal', title: 'run', sort: labels, scale, legend: { orient: 'top' } } as const);
  const y = { field: 'accuracy', type: 'quantitative', title: one ? (one.yTitle ?? 'worst-case robust accuracy') : 'robust accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%', ...(one ? { tickCount: 6 } : {}) } } as const;
  const strokeDash = { field: 'kind', type: 'nominal', scale: { domain: ['attack', 'worst case'], range: [[1, 0], [6, 3]] }, legend: null } as const;
  return {
    width: CARD_WIDTH - (one ? 170 : 260),
    height,
    background: 'white',
    // Room on the right for the names at the ends of the lines.
    padding: { left: 8, top: 8, bottom: 8, right: one ? 120 : 200 },
    description: one?.description ?? 'Robust accuracy against ε for every compared run',
    config: CHART_CONFIG,
    encoding: { x: { field: 'eps', type: 'quantitative', title: one?.xTitle ?? 'ε', ...(one?.xLog ? { scale: { type: 'log', nice: false }, axis: { values: [...new Set(points.map((p) => p.eps))], format: ',' } } : { scale: { zero: true, nice: false } }) } },
    layer: [
      ...(one ? [{ data: { values: points }, mark: { type: 'area', opacity: 0.1 }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: colour } }] : []),
      {
        data: { values: points },
        mark: { type: 'line', strokeWidth: 2.25, point: { filled: true, size: one ? 55 : 40 } },
        encoding: one
          ? { y, color: colour, shape: { field: 'series', type: 'nominal', sort: labels, legend: null } }
          : { y, color: colour, detail: { field: 'line' }, strokeDash, shape: { field: 'series', type: 'nominal', legend: null } },
      },
      {
        data: { values: ends },
        mark: { type: 'text', align: 'left', dx: one ? 10 : 8, fontSize: one ? 12 : 11, ...(one ? { baseline: 'middle', fontWeight: 600 } : {}) },
        encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'line' }, color: colour },
      },
    ],
  } as TopLevelSpec;
}
