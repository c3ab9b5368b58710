/**
 * Deciding whether a robustness figure got worse: pure functions on per-example bits.
 *
 * A drop is a regression only when it is larger than the tolerance (absolute accuracy, e.g.
 * 0.01 = one point) AND statistically significant (one-sided p < α). The tolerance says how
 * much the team accepts; the test says whether the drop could be noise for this many examples.
 *
 * Default test: exact one-sided McNemar (paired). `advtest check` re-runs the evaluation on the
 * identical examples with the identical seeds, so the two runs are paired: an example that was
 * robust before is almost always robust after, and only the discordant examples carry
 * information. Under "no change", each discordant example is equally likely to have been lost
 * or gained, so lost ~ Binomial(lost + gained, ½) and p = P(X ≥ lost). An unpaired two-proportion
 * test treats the runs as independent samples and charges the full binomial variance of both,
 * which on a 300-example subset hides drops of several points (12 examples lost, none gained:
 * paired p = 2⁻¹² ≈ 0.0002, unpaired p ≈ 0.13). The unpaired pooled z-test is kept for
 * comparing against figures whose examples are not paired.
 *
 * Each figure is tested at α on its own (no multiple-comparison correction): with the tolerance
 * as a second gate, a handful of figures rarely yields a false alarm, and a CI gate that
 * weakens as more ε values are added would reward checking less.
 */
import { countTrue } from './bits.js';
import { normalUpperTail } from './normal.js';

export type TestName = 'paired' | 'unpaired';

export const TEST_NAMES: readonly TestName[] = ['paired', 'unpaired'];

export const TEST_DESCRIPTIONS: Record<TestName, string> = {
  paired: 'exact one-sided McNemar test on the same examples',
  unpaired: 'one-sided pooled two-proportion z-test',
};

export interface CompareOptions {
  /** Largest accepted drop in accuracy, as a fraction (0.01 = 1 point). */
  tolerance: number;
  /** Significance level of the one-sided test. */
  alpha: number;
  test: TestName;
}

export const DEFAULT_COMPARE: CompareOptions = { tolerance: 0.01, alpha: 0.05, test: 'paired' };

/**
 * regression: drop > tolerance and p < α (the only failing verdict);
 * not significant: drop > tolerance but p ≥ α; within tolerance: 0 < drop ≤ tolerance.
 */
export type Verdict = 'regression' | 'not significant' | 'within tolerance' | 'unchanged' | 'improved';

export interface Count {
  correct: number;
  n: number;
  accuracy: number;
}

export interface FigureComparison {
  before: Count;
  after: Count;
  /** after − before, as a fraction. */
  change: number;
  /** Examples robust before and not after. */
  lost: number;
  /** Examples robust after and not before. */
  gained: number;
  /** One-sided p-value for "after is worse than before". */
  pValue: number;
  verdict: Verdict;
}

/** log C(n, k) for k = 0..n, built by the recurrence C(n, k+1) = C(n, k)·(n−k)/(k+1). */
function logBinomials(n: number): number[] {
  const out = [0];
  for (let k = 0; k < n; k++) out.push(out[k]! + Math.log(n - k) - Math.log(k + 1));
  return out;
}

/**
 * Exact one-sided McNemar test: P(X ≥ lost) for X ~ Binomial(lost + gained, ½).
 * Summed in log space (log-sum-exp) so that thousands of discordant examples do not overflow.
 */
export function mcnemarOneSided(lost: number, gained: number): number {
  const n = lost + gained;
  if (lost === 0) return 1;
  const logC = logBinomials(n);
  const terms = logC.slice(lost).map((l) => l - n * Math.LN2);
  const max = Math.max(...terms);
  const p = Math.exp(max) * terms.reduce((s, t) => s + Math.exp(t - max), 0);
  return Math.min(1, p);
}

/**
 * One-sided pooled two-proportion z-test of H₀: p_after ≥ p_before against p_after < p_before.
 * z = (p̂₁ − p̂₂) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)) with p̂ the pooled proportion; p = P(Z ≥ z).
 */
export function twoProportionOneSided(before: { correct: number; n: number }, after: { correct: number; n: number }): { z: number; p: number } {
  const p1 = before.correct / before.n;
  const p2 = after.correct / after.n;
  const pooled = (before.correct + after.correct) / (before.n + after.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / before.n + 1 / after.n));
  // Both 0% or both 100%: no difference and no variance; z = 0 says "no evidence".
  const z = se === 0 ? 0 : (p1 - p2) / se;
  return { z, p: normalUpperTail(z) };
}

function count(bits: readonly boolean[]): Count {
  const correct = countTrue(bits);
  return { correct, n: bits.length, accuracy: bits.length === 0 ? 0 : correct / bits.length };
}

/** Compares one figure's per-example bits before and after (same examples, same order). */
export function compareFigure(before: readonly boolean[], after: readonly boolean[], options: CompareOptions): FigureComparison {
  if (before.length !== after.length) {
    throw new RangeError(`cannot pair ${before.length} examples with ${after.length}`);
  }
  const b = count(before);
  const a = count(after);
  let lost = 0;
  let gained = 0;
  before.forEach((was, i) => {
    if (was && !after[i]) lost++;
    if (!was && after[i]) gained++;
  });
  const pValue = options.test === 'paired' ? mcnemarOneSided(lost, gained) : twoProportionOneSided(b, a).p;
  const n = before.length;
  // Decide on counts, not on rounded fractions: a drop of exactly the tolerance is accepted.
  const dropCount = b.correct - a.correct;
  const toleratedCount = options.tolerance * n;
  let verdict: Verdict;
  if (dropCount < 0) verdict = 'improved';
  else if (dropCount === 0) verdict = 'unchanged';
  else if (dropCount <= toleratedCount + 1e-9) verdict = 'within tolerance';
  else if (!(pValue < options.alpha)) verdict = 'not significant';
  else verdict = 'regression';
  return { before: b, after: a, change: n === 0 ? 0 : (a.correct - b.correct) / n, lost, gained, pValue, verdict };
}
