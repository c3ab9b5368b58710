import { describe, expect, it } from 'vitest';
import { binomialTestHalf, certifiedRadius, clopperPearsonLower, normalInverse } from '../../src/certify/statistics.js';

describe('Clopper–Pearson lower bound (one-sided, 1 − α)', () => {
  it('k = n: Beta(n, 1) has CDF xⁿ, so the bound is α^(1/n)', () => {
    // 0.05^(1/10) = exp(ln 0.05 / 10) = 0.741134449…; 0.001^(1/1000) = 0.993116048…
    expect(clopperPearsonLower(10, 10, 0.05)).toBeCloseTo(0.7411344491069477, 12);
    expect(clopperPearsonLower(1000, 1000, 0.001)).toBeCloseTo(0.9931160484209338, 12);
  });

  it('k = 1: Beta(1, n) has CDF 1 − (1 − x)ⁿ, so the bound is 1 − (1 − α)^(1/n)', () => {
    // 1 − 0.95^(1/10) = 0.005116196…
    expect(clopperPearsonLower(1, 10, 0.05)).toBeCloseTo(0.005116196891823743, 12);
  });

  it('k = 0 gives 0', () => {
    expect(clopperPearsonLower(0, 50, 0.001)).toBe(0);
  });

  it('5 of 10 at α = 0.025 is the lower end of the tabulated exact 95% interval [0.1871, 0.8129]', () => {
    // The exact two-sided 95% interval of 5/10 is [0.1871, 0.8129]; its lower end is the 0.025
    // quantile of Beta(5, 6), which scipy.stats.beta.ppf(0.025, 5, 6) gives as 0.18708602…
    expect(clopperPearsonLower(5, 10, 0.025)).toBeCloseTo(0.187086, 5);
  });

  it('refuses counts that are not 0 ≤ k ≤ n', () => {
    expect(() => clopperPearsonLower(11, 10, 0.05)).toThrow(/0 ≤ k ≤ n/);
  });
});

describe('Φ⁻¹ and the radius', () => {
  it('matches the standard normal table', () => {
    expect(normalInverse(0.5)).toBe(0);
    expect(normalInverse(0.975)).toBeCloseTo(1.959963984540054, 9);
    expect(normalInverse(0.99)).toBeCloseTo(2.326347874040841, 9);
    expect(normalInverse(0.999)).toBeCloseTo(3.090232306167814, 9);
    expect(normalInverse(0.841344746068543)).toBeCloseTo(1, 9); // Φ(1)
  });

  it('σ·Φ⁻¹(p̲_A): with all 1000 samples on one class at α = 0.001 and σ = 0.25, 0.25·Φ⁻¹(0.993116)', () => {
    const p = clopperPearsonLower(1000, 1000, 0.001);
    // Φ⁻¹(0.9931160484) = 2.4625… (normal table), so the radius is 0.6156…
    expect(certifiedRadius(0.25, p)).toBeCloseTo(0.25 * normalInverse(0.9931160484209338), 12);
    expect(certifiedRadius(0.25, p)).toBeGreaterThan(0.6150);
    expect(certifiedRadius(0.25, p)).toBeLessThan(0.6162);
  });
});

describe('two-sided binomial test at ½ (PREDICT)', () => {
  it('is 2·P(X ≥ k) by hand for n = 10', () => {
    // P(X ≥ 7) = (120 + 45 + 10 + 1)/1024 = 176/1024, doubled: 0.34375
    expect(binomialTestHalf(7, 10)).toBeCloseTo(0.34375, 12);
    expect(binomialTestHalf(3, 10)).toBeCloseTo(0.34375, 12);
    // 10 of 10: 2/1024
    expect(binomialTestHalf(10, 10)).toBeCloseTo(0.001953125, 12);
    expect(binomialTestHalf(5, 10)).toBe(1);
  });
});
