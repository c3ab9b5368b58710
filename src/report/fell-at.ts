import type { Report } from '../harness/report-types.js';

/**
 * The distribution of each example's smallest breaking ε (`fellAt`) over all evaluated
 * examples: 0 for an example wrong clean, null ("held") for one that survived every ε.
 */
export interface FellAtDistribution {
  n: number;
  /** Evaluated ε values, ascending (0 included: examples wrong clean fall there). */
  epsilons: number[];
  /** Examples whose fellAt is exactly this ε. */
  histogram: { eps: number; count: number }[];
  /** Examples that held at every ε. */
  held: number;
  /** Fraction of examples with fellAt ≤ ε. */
  cdf: { eps: number; fraction: number }[];
  /**
   * Median of fellAt (null: above the largest ε, i.e. more than half held) with a distribution-free
   * 95% interval from order statistics (null bounds likewise mean "above the largest ε").
   */
  median: { value: number | null; interval: [number | null, number | null] };
  /**
   * Per ε, examples that fell at a smaller ε but are robust again here (a non-monotone attack):
   * the CDF counts them as fallen, the worst-case accuracy as robust.
   */
  recovered: { eps: number; count: number }[];
}

/** P(X ≤ k) for X ~ Binomial(n, ½), in logs so that large n does not overflow. */
function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let logC = 0;
  let total = 0;
  const logHalfN = n * Math.log(0.5);
  for (let j = 0; j <= k; j++) {
    if (j > 0) logC += Math.log(n - j + 1) - Math.log(j);
    total += Math.exp(logC + logHalfN);
  }
  return Math.min(1, total);
}

/**
 * 1-based ranks (l, u) of the order statistics bounding the median at ≥ 95% coverage:
 * the largest l with P(Bin(n, ½) ≤ l − 1) ≤ 0.025, and u = n + 1 − l. For n < 6 no rank
 * gives 95%, and the interval is the whole sample.
 */
export function medianRanks(n: number): [number, number] {
  let l = 0;
  while (l + 1 <= n && binomialHalfCdf(l, n) <= 0.025) l++;
  l = Math.max(1, l);
  return [l, n + 1 - l];
}

export function fellAtDistribution(report: Pick<Report, 'examples' | 'config' | 'worstCase'>): FellAtDistribution {
  const fell = report.examples.fellAt;
  const n = fell.length;
  const epsilons = [...new Set([0, ...report.config.epsilons])].sort((a, b) => a - b);
  const histogram = epsilons.map((eps) => ({ eps, count: fell.filter((f) => f === eps).length }));
  const held = fell.filter((f) => f === null || f === undefined).length;
  const cdf = epsilons.map((eps) => ({ eps, fraction: n === 0 ? 0 : fell.filter((f) => f !== null && f !== undefined && f <= eps).length / n }));
  // null sorts last: it stands for "more than the largest ε".
  const sorted = fell.map((f) => (f === null || f === undefined ? Infinity : f)).sort((a, b) => a - b);
  const at = (rank: number) => {
    const v = sorted[Math.min(Math.max(rank, 1), n) - 1];
    return v === undefined || v === Infinity ? null : v;
  };
  // Lower median for an even count: a value that occurs, since ε is discrete here.
  const value = n === 0 ? null : at(Math.ceil(n / 2));
  const [l, u] = medianRanks(n);
  // Examples robust under the worst case at ε although their fellAt is smaller.
  const recovered = epsilons.map((eps) => {
    const w = report.worstCase.find((x) => x.eps === eps);
    if (!w) return { eps, count: 0 };
    const fallen = fell.filter((f) => f !== null && f !== undefined && f <= eps).length;
    return { eps, count: fallen - (n - w.correct) };
  });
  return { n, epsilons, histogram, held, cdf, median: { value, interval: [n === 0 ? null : at(l), n === 0 ? null : at(u)] }, recovered };
}
