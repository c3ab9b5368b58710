import type { CheckResult } from '../regression/check.js';
import type { Verdict } from '../regression/compare.js';
import type { Estimate } from './figures.js';
import type { SanityCheck } from '../harness/report-types.js';
import { wilsonInterval } from '../harness/stats.js';
import type { Baseline } from '../regression/baseline-file.js';
import { curvePoints, type CurvePoint } from './curve-chart.js';
import type { RunCurves } from './compare.js';
import type { ClassDelta } from './class-deltas.js';

/** One figure of a regression check, as plain data for the renderers. */
export interface RegressionRow {
  /** "clean", "worst case" or the attack's name with its norm, e.g. "fgsm (linf)". */
  figure: string;
  eps?: number;
  before: Estimate;
  after: Estimate;
  /** after − before, as a fraction. */
  change: number;
  pValue?: number;
  verdict: Verdict;
  /** Paired comparisons: examples robust before and not now (lost), and the reverse (gained). */
  lost?: number;
  gained?: number;
}

export interface RegressionTable {
  passed: boolean;
  /** What counts as a regression, in words, e.g. "drop > 1.0 pts and p < 0.05, exact McNemar". */
  rule?: string;
  baseline?: string;
  rows: RegressionRow[];
  /** The sanity checks of the baseline's run and the re-run, shown side by side; `checks` absent = not recorded. */
  sanity?: { run: string; checks?: readonly SanityCheck[]; short?: string }[];
  /** The curves of the baseline's run and the re-run, drawn on one chart (one colour per run). */
  curves?: RunCurves[];
  /** Per class, series and ε: robust accuracy before and after (class-deltas.ts). */
  classDeltas?: ClassDelta[];
  /** Said instead of the per-class deltas when the baseline holds no per-class counts. */
  classNotice?: string;
  /** Names of the classes (index = label). */
  classNames?: readonly string[];
}

function estimate(c: { correct: number; n: number; accuracy: number }): Estimate {
  const [lo, hi] = wilsonInterval(c.correct, c.n);
  return { accuracy: c.accuracy, interval: [lo, hi], correct: c.correct, n: c.n };
}

/** The table of an `advtest check` result, for `check --html` / `--md`. */
export function regressionTableFromCheck(
  result: Pick<CheckResult, 'options' | 'passed' | 'baselinePath' | 'figures'> & Partial<Pick<CheckResult, 'sanity' | 'model' | 'baseline' | 'report' | 'classDeltas' | 'classNotice' | 'classNames'>>,
): RegressionTable {
  const o = result.options;
  const s = result.sanity;
  return {
    passed: result.passed,
    rule: `drop > ${(o.tolerance * 100).toFixed(1)} pts and p < ${o.alpha}, ${o.test} test`,
    baseline: result.baselinePath,
    rows: result.figures.map((f) => ({
      figure: f.kind === 'attack' ? `${f.attack ?? '?'} (${f.norm ?? '?'})` : f.kind,
      ...(f.eps !== undefined ? { eps: f.eps } : {}),
      before: estimate(f.before),
      after: estimate(f.after),
      change: f.change,
      pValue: f.pValue,
      verdict: f.verdict,
      ...(typeof f.lost === 'number' ? { lost: f.lost } : {}),
      ...(typeof f.gained === 'number' ? { gained: f.gained } : {}),
    })),
    ...(s !== undefined ? { sanity: checkSanityRuns(result.baselinePath, result.model ?? 'the checked model', s) } : {}),
    ...(result.classDeltas !== undefined ? { classDeltas: result.classDeltas } : {}),
    ...(result.classNotice !== undefined ? { classNotice: result.classNotice } : {}),
    ...(result.classNames !== undefined ? { classNames: result.classNames } : {}),
    ...(result.baseline && result.report ? { curves: [{ label: 'before', points: baselineCurvePoints(result.baseline) }, { label: 'after', points: curvePoints(result.report) }] } : {}),
  };
}

/**
 * The baseline's figures as curve points, named as curvePoints names a report's: each attack from
 * ε = 0 (the clean accuracy), "+" for the later attacks of a sequential suite, the worst case.
 */
export function baselineCurvePoints(baseline: Baseline): CurvePoint[] {
  const { figures, evaluation } = baseline;
  const names = evaluation.attacks.map((a) => a.name);
  const clean = figures.clean;
  const start = (series: string): CurvePoint[] => (evaluation.epsilons.includes(0) ? [] : [{ series, eps: 0, accuracy: clean.accuracy, lo: clean.interval[0], hi: clean.interval[1] }]);
  const out: CurvePoint[] = [];
  for (const attack of names) {
    const series = evaluation.mode === 'sequential' && names.length > 1 && attack !== names[0] ? `+ ${attack}` : attack;
    out.push(...start(series));
    for (const r of figures.results.filter((x) => x.attack === attack).sort((a, b) => a.eps - b.eps)) out.push({ series, eps: r.eps, accuracy: r.accuracy, lo: r.interval[0], hi: r.interval[1] });
  }
  if (names.length > 1) {
    out.push(...start('worst case'));
    for (const w of [...figures.worstCase].sort((a, b) => a.eps - b.eps)) out.push({ series: 'worst case', eps: w.eps, accuracy: w.accuracy, lo: w.interval[0], hi: w.interval[1] });
  }
  return out;
}

/** The two runs of a check as the sanity section names them: before (the baseline's) and after. */
export function checkSanityRuns(baselinePath: string, model: string, sanity: CheckResult['sanity']): NonNullable<RegressionTable['sanity']> {
  return [
    { run: `before: baseline ${baselinePath}`, short: 'before', ...(sanity.before !== undefined ? { checks: sanity.before } : {}) },
    { run: `after: ${model}`, short: 'after', checks: sanity.after },
  ];
}
