import { describe, expect, it } from 'vitest';
import { endLabels, type CurvePoint } from '../../src/report/curve-chart.js';

/** One series per accuracy, each ending there (and starting lower, at ε 0, to show only the end counts). */
const ends = (accuracies: number[]): CurvePoint[] =>
  accuracies.flatMap((a, i) => [
    { series: `s${i}`, eps: 0, accuracy: 0.5, lo: 0, hi: 1 },
    { series: `s${i}`, eps: 1, accuracy: a, lo: 0, hi: 1 },
  ]);

describe('endLabels: names near their line ends, at least gap apart, inside [0, 1]', () => {
  it.each([
    // ends, gap, positions worked out by hand (least-squares spread, then kept inside [0, 1])
    { name: 'apart already: unchanged', at: [0.9, 0.5, 0.1], gap: 0.1, want: [0.9, 0.5, 0.1] },
    { name: 'two at one point: both ways', at: [0.5, 0.5], gap: 0.1, want: [0.55, 0.45] },
    { name: 'three at one point', at: [0.5, 0.5, 0.5], gap: 0.1, want: [0.6, 0.5, 0.4] },
    { name: 'a close pair and a loner', at: [0.52, 0.48, 0.1], gap: 0.1, want: [0.55, 0.45, 0.1] },
    { name: 'a crowd pushes into its neighbour', at: [0.62, 0.5, 0.5, 0.5], gap: 0.1, want: [0.68, 0.58, 0.48, 0.38] },
    { name: 'at the floor: lifted', at: [0.02, 0], gap: 0.1, want: [0.1, 0] },
    { name: 'at the ceiling: lowered', at: [1, 0.98], gap: 0.1, want: [1, 0.9] },
    { name: 'at both bounds at once', at: [1, 0.98, 0], gap: 0.1, want: [1, 0.9, 0] },
    { name: 'a crowd at the ceiling does not move a loner', at: [1, 0.98, 0.3], gap: 0.1, want: [1, 0.9, 0.3] },
    { name: 'a crowd at the floor does not move a loner', at: [0.02, 0, 0.9], gap: 0.1, want: [0.1, 0, 0.9] },
    { name: 'too many to fit: the lowest at 0', at: [0.5, 0.5, 0.5], gap: 0.6, want: [1.2, 0.6, 0] },
    { name: 'input order does not matter (ties keep it)', at: [0.5, 0.9, 0.5], gap: 0.1, want: [0.55, 0.9, 0.45] },
  ])('$name', ({ at, gap, want }) => {
    const got = endLabels(ends(at), gap);
    expect(got.map((e) => e.series)).toEqual(at.map((_, i) => `s${i}`));
    expect(got.map((e) => e.accuracy)).toEqual(at);
    got.forEach((e, i) => expect(e.y, e.series).toBeCloseTo(want[i]!, 9));
  });

  it('keeps 13 crowded names within their group, each at least gap from the next', () => {
    const at = [0.64, 0.63, 0.62, 0.62, 0.6, 0.59, 0.59, 0.59, 0.58, 0.57, 0.53, 0.52, 0.08];
    const ys = endLabels(ends(at), 0.04).map((e) => e.y).sort((a, b) => b - a);
    for (let i = 1; i < ys.length; i++) expect(ys[i - 1]! - ys[i]!).toBeGreaterThanOrEqual(0.04 - 1e-9);
    // Spread around the crowd's middle (about 0.59), not pushed down from its top.
    expect(ys[0]).toBeGreaterThan(0.75);
    expect(ys[11]).toBeGreaterThan(0.3);
  });
});
