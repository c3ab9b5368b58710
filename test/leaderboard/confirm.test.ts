import { describe, expect, it } from 'vitest';
import { proportion } from '../../src/harness/assemble.js';
import type { Report } from '../../src/harness/report-types.js';
import { benchLeaderboards } from '../../src/leaderboard/boards.js';
import type { BenchConfig } from '../../src/leaderboard/config.js';
import { combinedWorstCase, confirmationKey, entryWorstCase, nextToConfirm, type Confirmable } from '../../src/leaderboard/confirm.js';
import type { EntryResult } from '../../src/leaderboard/run.js';

const EPS = 0.3;

/**
 * A report holding only what the confirmation reads: per example the label, the clean prediction
 * and one attack's prediction at ε; `robust` marks the examples the attack did not break.
 */
function report(labels: number[], clean: number[], robust: boolean[], eps = EPS, attack = 'a'): Report {
  const predictions = labels.map((y, i) => (robust[i] ? y : (y + 1) % 10));
  const alive = labels.filter((y, i) => clean[i] === y && robust[i]).length;
  return {
    config: { epsilons: [eps], attacks: [{ name: attack, norm: 'linf' }] },
    results: [{ attack, eps, ...proportion(alive, labels.length) }],
    clean: proportion(labels.filter((y, i) => clean[i] === y).length, labels.length),
    // The same figure at 0.1 too: a board of two ε.
    worstCase: [{ eps, ...proportion(alive, labels.length) }, { eps: 0.1, ...proportion(alive, labels.length) }],
    examples: { ids: labels.map((_, i) => `test/${i}`), labels, cleanPredictions: clean, results: [{ attack, eps, predictions }], fellAt: [] },
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

describe('confirmationKey: what redoes a confirmation', () => {
  const config = { eval: { attack: 'pgd', eps: [0.3], limit: 100, seed: 0 }, confirm: { attack: 'autoattack' }, entries: [] } as unknown as BenchConfig;
  const key = (c: BenchConfig, transform?: string) => confirmationKey(c, { name: 'e', ...(transform ? { transform } : {}) }, 'training', EPS);

  it.each([
    ['another input transform', key(config, 'jpeg=50')],
    ['another confirming attack option', key({ ...config, confirm: { attack: 'autoattack', steps: 50 } } as BenchConfig)],
    ['another evaluation limit', key({ ...config, eval: { ...config.eval, limit: 200 } } as BenchConfig)],
    ['another seed', key({ ...config, eval: { ...config.eval, seed: 1 } } as BenchConfig)],
    ['another training', confirmationKey(config, { name: 'e' }, 'other training', EPS)],
    ['another ε', confirmationKey(config, { name: 'e' }, 'training', 0.1)],
  ])('%s', (_what, other) => {
    expect(other).not.toBe(key(config));
  });

  it('the same settings give the same key, and the transform is in it', () => {
    expect(key(config, 'jpeg=75')).toBe(key(config, 'jpeg=75'));
    expect(key(config, 'jpeg=75')).not.toBe(key(config, 'jpeg=50'));
  });
});

describe('benchLeaderboards with a confirming attack', () => {
  const labels = Array.from({ length: 10 }, (_, i) => i % 10);
  const entry = (name: string, k: number, confirmedK?: number, by = 'pgd'): EntryResult =>
    ({
      name,
      adaptive: 'direct',
      trainingSeconds: 1,
      report: report(labels, labels, labels.map((_, i) => i < k), EPS, 'pgd'),
      ...(confirmedK !== undefined ? { confirmations: [{ key: 'k', attack: by, eps: EPS, report: report(labels, labels, labels.map((_, i) => i < confirmedK), EPS, 'pgd') }] } : {}),
    }) as unknown as EntryResult;

  it('names its column apart from an evaluation attack of the same name, and ranks by the worst case with it', () => {
    const [board] = benchLeaderboards([entry('a', 8, 5), entry('b', 7, 6)], { attack: 'pgd', eps: [EPS] });
    expect(board!.attacks).toEqual(['pgd', 'pgd (confirm)']);
    const a = board!.rows.find((r) => r.name === 'a')!;
    expect([a.attacks.pgd!.accuracy, a.attacks['pgd (confirm)']!.accuracy, a.worstCase.accuracy]).toEqual([0.8, 0.5, 0.5]);
    expect(board!.notes).toHaveLength(1);
  });

  it('warns when the best row does not carry the confirming attack (a run with --only)', () => {
    const [board] = benchLeaderboards([entry('a', 8), entry('b', 7, 6, 'autoattack')], { attack: 'autoattack', eps: [EPS] });
    expect(board!.attacks).toEqual(['pgd', 'autoattack']);
    expect(board!.notes?.[1]).toMatch(/^⚠ autoattack: the best row here has not been confirmed yet .* without --only/);
    // The config's attack has its column even before any row carries it.
    const [none] = benchLeaderboards([entry('a', 8)], { attack: 'autoattack', eps: [EPS] });
    expect(none!.attacks).toEqual(['pgd', 'autoattack']);
    expect(none!.notes?.[1]).toMatch(/^⚠/);
    // Without a confirm section nothing is added.
    expect(benchLeaderboards([entry('a', 8)])[0]!.notes).toBeUndefined();
  });
});
