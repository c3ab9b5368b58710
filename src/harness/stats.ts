/**
 * Wilson score interval for a binomial proportion (Wilson 1927), 95% by default: honest
 * for small subsets and for proportions near 0 or 1, where the normal approximation is not.
 */
export function wilsonInterval(successes: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Rounds for the report so that tiny float noise does not change its bytes between runs. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
