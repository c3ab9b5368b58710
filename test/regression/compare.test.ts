import { describe, expect, it } from 'vitest';
import { compareFigure, mcnemarOneSided, twoProportionOneSided, type CompareOptions } from '../../src/regression/compare.js';

/** n bits: the first `ones` true. */
const bits = (n: number, ones: number) => Array.from({ length: n }, (_, i) => i < ones);

/**
 * Before/after bits over n examples where `both` stay robust, `lost` fall, `gained` recover,
 * and the rest are never robust.
 */
function paired(n: number, both: number, lost: number, gained: number): [boolean[], boolean[]] {
  const before = bits(n, both + lost);
  const after = before.map((b, i) => (i < both ? true : i < both + lost ? false : i < both + lost + gained));
  return [before, after];
}

const PAIRED: CompareOptions = { tolerance: 0.01, alpha: 0.05, test: 'paired' };

describe('mcnemarOneSided (exact, X ~ Binomial(lost + gained, ½), p = P(X ≥ lost))', () => {
  it.each([
    // 5 lost, 0 gained: (½)⁵ = 1/32.
    [5, 0, 1 / 32],
    [4, 0, 1 / 16],
    // 3 of 4: (C(4,3) + C(4,4)) / 16 = 5/16.
    [3, 1, 5 / 16],
    // 7 of 12: (792 + 495 + 220 + 66 + 12 + 1) / 4096 = 1586/4096.
    [7, 5, 1586 / 4096],
    [12, 0, 2 ** -12],
    [0, 3, 1],
    [0, 0, 1],
  ])('lost %i, gained %i → p = %f', (lost, gained, p) => {
    expect(mcnemarOneSided(lost, gained)).toBeCloseTo(p, 12);
  });

  it('stays finite and tiny for thousands of discordant examples', () => {
    const p = mcnemarOneSided(3000, 1000);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1e-100);
    // Symmetric split: just over ½ (the middle term counts).
    expect(mcnemarOneSided(1000, 1000)).toBeGreaterThan(0.5);
    expect(mcnemarOneSided(1000, 1000)).toBeLessThan(0.52);
  });
});

describe('twoProportionOneSided (pooled z)', () => {
  it('80/100 → 70/100: p̂ = 0.75, se = √(0.75·0.25·0.02) = 0.061237, z = 1.632993, p = 0.051235', () => {
    const { z, p } = twoProportionOneSided({ correct: 80, n: 100 }, { correct: 70, n: 100 });
    expect(z).toBeCloseTo(1.632993, 5);
    expect(p).toBeCloseTo(0.051235, 5);
  });

  it('234/300 → 216/300: z = 0.06/√(0.75·0.25·2/300) = 1.697056, p = 0.044843', () => {
    const { z, p } = twoProportionOneSided({ correct: 234, n: 300 }, { correct: 216, n: 300 });
    expect(z).toBeCloseTo(1.697056, 5);
    expect(p).toBeCloseTo(0.044843, 5);
  });

  it('no difference and no variance gives z = 0, p = ½', () => {
    const { z, p } = twoProportionOneSided({ correct: 10, n: 10 }, { correct: 10, n: 10 });
    expect(z).toBe(0);
    expect(p).toBeCloseTo(0.5, 6);
  });
});

describe('compareFigure', () => {
  it('a 6-point drop of 18 lost, 0 gained on 300 is a regression (p = 2⁻¹⁸)', () => {
    const [before, after] = paired(300, 216, 18, 0);
    const c = compareFigure(before, after, PAIRED);
    expect(c.before).toEqual({ correct: 234, n: 300, accuracy: 0.78 });
    expect(c.after).toEqual({ correct: 216, n: 300, accuracy: 0.72 });
    expect(c.change).toBeCloseTo(-0.06, 12);
    expect([c.lost, c.gained]).toEqual([18, 0]);
    expect(c.pValue).toBeCloseTo(2 ** -18, 15);
    expect(c.verdict).toBe('regression');
  });

  it('the same drop exactly at the tolerance passes: "larger than the tolerance" is strict', () => {
    const [before, after] = paired(300, 216, 18, 0);
    expect(compareFigure(before, after, { ...PAIRED, tolerance: 0.06 }).verdict).toBe('within tolerance');
    expect(compareFigure(before, after, { ...PAIRED, tolerance: 0.0599 }).verdict).toBe('regression');
  });

  it('noise passes even with no tolerance: 7 lost and 5 gained on 300 (p = 1586/4096 ≈ 0.39)', () => {
    const [before, after] = paired(300, 220, 7, 5);
    const c = compareFigure(before, after, { ...PAIRED, tolerance: 0 });
    expect(c.change).toBeCloseTo(-2 / 300, 12);
    expect(c.pValue).toBeCloseTo(1586 / 4096, 12);
    expect(c.verdict).toBe('not significant');
  });

  it('needs both gates: a large but insignificant drop passes (4 lost of 20: p = 1/16)', () => {
    const [before, after] = paired(20, 10, 4, 0);
    const c = compareFigure(before, after, PAIRED);
    expect(c.change).toBeCloseTo(-0.2, 12);
    expect(c.pValue).toBeCloseTo(1 / 16, 12);
    expect(c.verdict).toBe('not significant');
    // α is configurable: at 0.1 the same drop is a regression.
    expect(compareFigure(before, after, { ...PAIRED, alpha: 0.1 }).verdict).toBe('regression');
  });

  it('the paired test finds what the unpaired one misses on the same examples (12 lost, 0 gained of 300)', () => {
    const [before, after] = paired(300, 216, 12, 0);
    const p = compareFigure(before, after, PAIRED);
    const u = compareFigure(before, after, { ...PAIRED, test: 'unpaired' });
    expect(p.pValue).toBeCloseTo(2 ** -12, 15);
    expect(p.verdict).toBe('regression');
    // 76% → 72%: z = 0.04/√(0.74·0.26·2/300), one-sided p ≈ 0.13.
    expect(u.pValue).toBeGreaterThan(0.12);
    expect(u.pValue).toBeLessThan(0.14);
    expect(u.verdict).toBe('not significant');
  });

  it('calls equal figures unchanged and higher ones improved', () => {
    const [same1, same2] = paired(10, 5, 2, 2);
    expect(compareFigure(same1, same2, PAIRED).verdict).toBe('unchanged');
    const [b, a] = paired(10, 5, 0, 3);
    expect(compareFigure(b, a, PAIRED)).toMatchObject({ verdict: 'improved', lost: 0, gained: 3, pValue: 1 });
  });

  it('refuses bits of different lengths', () => {
    expect(() => compareFigure(bits(3, 1), bits(4, 1), PAIRED)).toThrow(/cannot pair 3 examples with 4/);
  });
});
