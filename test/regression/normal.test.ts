import { describe, expect, it } from 'vitest';
import { erfc, normalUpperTail } from '../../src/regression/normal.js';

describe('normalUpperTail', () => {
  it.each([
    [0, 0.5],
    [1.959963984540054, 0.025],
    [1.6448536269514722, 0.05],
    [-1.6448536269514722, 0.95],
    [3.090232306167813, 0.001],
  ])('P(Z ≥ %f) = %f', (z, p) => {
    expect(normalUpperTail(z)).toBeCloseTo(p, 6);
  });

  it('keeps small tails relative-accurate: P(Z ≥ 6) ≈ 9.8659e-10', () => {
    expect(normalUpperTail(6) / 9.865876450377e-10).toBeCloseTo(1, 5);
  });

  it('erfc is 2 − erfc(−x)', () => {
    for (const x of [0.1, 0.7, 2.5]) expect(erfc(-x)).toBeCloseTo(2 - erfc(x), 12);
  });
});
