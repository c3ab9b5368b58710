import type { CheckResult } from '../regression/check.js';
import type { Verdict } from '../regression/compare.js';
import type { Estimate } from './figures.js';
import { wilsonInterval } from '../harness/stats.js';

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
}

function estimate(c: { correct: number; n: number; accuracy: number }): Estimate {
  const [lo, hi] = wilsonInterval(c.correct, c.n);
  return { accuracy: c.accuracy, interval: [lo, hi], correct: c.correct, n: c.n };
}

/** The table of an `advtest check` result, for `check --html` / `--md`. */
export function regressionTableFromCheck(result: Pick<CheckResult, 'options' | 'passed' | 'baselinePath' | 'figures'>): RegressionTable {
  const o = result.options;
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
  };
}
