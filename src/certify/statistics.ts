import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/**
 * One-sided (1 − α) Clopper–Pearson lower confidence bound on a binomial proportion after k
 * successes in n trials: the α quantile of Beta(k, n − k + 1), and 0 when k = 0 (Clopper &
 * Pearson 1934). Cohen et al.'s LowerConfBound is proportion_confint(k, n, alpha=2α,
 * method="beta")[0], the same number.
 */
export function clopperPearsonLower(k: number, n: number, alpha: number): number {
  if (!(Number.isInteger(k) && Number.isInteger(n) && k >= 0 && k <= n && n > 0)) throw new Error(`clopperPearsonLower: need integers 0 ≤ k ≤ n, n > 0 (got ${k}, ${n})`);
  if (k === 0) return 0;
  return betaQuantile(alpha, k, n - k + 1);
}

/** Φ⁻¹, the standard normal quantile. */
export function normalInverse(p: number): number {
  return normalQuantile(p, 0, 1);
}

/**
 * Two-sided exact binomial test of H0: p = ½ after k successes in n trials (scipy's binom_test /
 * binomtest(k, n, 0.5).pvalue): with a symmetric null, 2·P(X ≤ min(k, n − k)) capped at 1.
 */
export function binomialTestHalf(k: number, n: number): number {
  if (n === 0) return 1;
  const tail = Math.min(k, n - k);
  return Math.min(1, 2 * binomialCdf(tail, n, 0.5));
}

/** The certified L2 radius σ·Φ⁻¹(p̲_A) of Cohen et al.'s Theorem 1 (with p̲_B = 1 − p̲_A). */
export function certifiedRadius(sigma: number, pALower: number): number {
  return sigma * normalInverse(pALower);
}

/**
 * The largest radius CERTIFY can return with n estimation samples: all n votes for one class give
 * p̲_A = α^(1/n), the Clopper–Pearson bound at k = n. A radius above it is never certified, whatever
 * the model; 0 when even that bound is ≤ ½ (every example abstains).
 */
export function largestCertifiableRadius(sigma: number, n: number, alpha: number): number {
  const p = clopperPearsonLower(n, n, alpha);
  return p <= 0.5 ? 0 : certifiedRadius(sigma, p);
}
