import { expect } from 'vitest';

/**
 * Asserts that two lists of number arrays (a model's weights, say) hold the same values, as toEqual
 * would (Object.is per value), but reports the count and the first difference: vitest's diff of
 * two 100,000-number arrays that differ runs for minutes.
 */
export function expectSameValues(actual: ArrayLike<number>[], expected: ArrayLike<number>[], what = 'values'): void {
  expect(actual.length, `${what}: how many arrays`).toBe(expected.length);
  let differing = 0;
  let first = '';
  actual.forEach((a, k) => {
    const e = expected[k]!;
    expect(a.length, `${what}[${k}]: length`).toBe(e.length);
    for (let i = 0; i < a.length; i++) {
      if (Object.is(a[i], e[i])) continue;
      differing++;
      if (first === '') first = ` (first at [${k}][${i}]: ${a[i]} against ${e[i]})`;
    }
  });
  expect(differing, `${what} that differ${first}`).toBe(0);
}
