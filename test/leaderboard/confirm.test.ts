import { describe, expect, it } from 'vitest';
import { proportion } from '../../src/harness/assemble.js';
import type { Report } from '../../src/harness/report-types.js';
import { combinedWorstCase, entryWorstCase, nextToConfirm, type Confirmable } from '../../src/leaderboard/confirm.js';

const EPS = 0.3;

/**
 * A report holding only what the confirmation reads: per example the label, the clean prediction
 * and one attack's prediction at ε; `robust` marks the examples the attack did not break.
 */
function report(labels: number[], clean: number[], robust: boolean[], eps = EPS): Report {
  const predictions = labels.map((y, i) => (robust[i] ? y : (y + 1) % 10));
  const alive = labels.filter((y, i) => clean[i] === y && robust[i]).length;
  return {
    clean: proportion(labels.filter((y, i) => clean[i] === y).length, labels.length),
    // The same figure at 0.1 too: a board of two ε.
    worstCase: [{ eps, ...proportion(alive, labels.length) }, { eps: 0.1, ...proportion(alive, labels.length) }],
    examples: { ids: labels.map((_, i) => `test/${i}`), labels, cleanPredictions: clean, results: [{ attack: 'a', eps, predictions }], fellAt: [] },
  } as unknown as Report;
}

describe('combinedWorstCase: robust only where neither report broke the example', () => {
  const labels = [0, 1, 2, 3, 4, 5];
  const clean = [0, 1, 2, 3, 4, 9]; // example 5 is wrong clean: never robust
  it.each([
    // evaluation's survivors, confirmation's survivors, hand count of both
    { evaluation: [true, true, false, true, true, true], confirming: [true, false, false, true, true, true], both: 3 },
    { evaluation: [true, true, true, true, true, true], confirming: [false, false, false, false, false, false], both: 0 },
    { evaluation: [false, true, false, true, false, true], confirming: [true, false, true, false, true, true], both: 0 },
    { evaluation: [true, true, true, true, true, true], confirming: [true, true, true, true, true, true], both: 5 },
  ])('$both of 6', ({ evaluation, confirming, both }) => {
    const w = combinedWorstCase(report(labels, clean, evaluation), report(labels, clean, confirming), EPS);
    expect(w.correct).toBe(both);
    expect(w.n).toBe(6);
    expect(w.accuracy).toBeCloseTo(both / 6, 6);
    expect(w.interval[0]).toBeLessThanOrEqual(w.accuracy);
    expect(w.interval[1]).toBeGreaterThanOrEqual(w.accuracy);
  });

  it('reads only the cells at its ε', () => {
    const other = report(labels, clean, [false, false, false, false, false, false], 0.1);
    const withBoth = { ...report(labels, clean, [true, true, true, true, true, true]) };
    withBoth.examples = { ...withBoth.examples, results: [...withBoth.examples.results, ...other.examples.results] };
    expect(combinedWorstCase(withBoth, report(labels, clean, [true, true, true, true, true, true]), EPS).correct).toBe(5);
  });

  it('refuses reports on other examples', () => {
    const a = report(labels, clean, labels.map(() => true));
    const b = report([...labels, 0], [...clean, 0], [...labels, 0].map(() => true));
    expect(() => combinedWorstCase(a, b, EPS)).toThrow(/other examples/);
  });
});

describe('nextToConfirm: the leaders are confirmed until the top rows all carry the reference attack', () => {
  // 10 examples, all correct clean; `k` of them survive the evaluation.
  const labels = Array.from({ length: 10 }, (_, i) => i % 10);
  const entry = (name: string, k: number): Confirmable => ({ name, report: report(labels, labels, labels.map((_, i) => i < k)) });
  const confirm = (r: Confirmable, k: number) => {
    r.confirmations = [{ key: 'k', attack: 'ref', eps: EPS, report: report(labels, labels, labels.map((_, i) => i < k)) }];
  };
  const key = () => 'k';

  it('confirms the leader, then the row that overtakes it, and stops when the leader is confirmed', () => {
    const a = entry('a', 8);
    const b = entry('b', 7);
    const c = entry('c', 6);
    const all = [c, b, a];
    expect(nextToConfirm(all, EPS, 1, key)?.name).toBe('a');
    confirm(a, 5); // a falls to 5/10: b (7/10, unconfirmed) leads now
    expect(entryWorstCase(a, EPS).correct).toBe(5);
    expect(nextToConfirm(all, EPS, 1, key)?.name).toBe('b');
    confirm(b, 7); // b holds: the leader is confirmed
    expect(nextToConfirm(all, EPS, 1, key)).toBeUndefined();
    // Two rows asked for: c (6/10) is second now, above a's confirmed 5/10.
    expect(nextToConfirm(all, EPS, 2, key)?.name).toBe('c');
  });

  it('redoes a confirmation whose key is stale (other training or attack settings)', () => {
    const a = entry('a', 8);
    confirm(a, 8);
    expect(nextToConfirm([a], EPS, 1, key)).toBeUndefined();
    expect(nextToConfirm([a], EPS, 1, () => 'other')?.name).toBe('a');
  });

  it('counts a confirmation only at its own ε', () => {
    const a = entry('a', 8);
    confirm(a, 2);
    expect(nextToConfirm([a], EPS, 1, key)).toBeUndefined();
    expect(entryWorstCase(a, EPS).correct).toBe(2);
    expect(nextToConfirm([a], 0.1, 1, key)?.name).toBe('a');
    expect(entryWorstCase(a, 0.1).correct).toBe(8);
  });
});
