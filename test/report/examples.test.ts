import { describe, expect, it } from 'vitest';
import { chooseExamples } from '../../src/report/choose-examples.js';
import { sampleReport } from './sample-report.js';

describe('chooseExamples', () => {
  it('takes the examples fooled at the smallest ε first, each under the first attack that fooled it', () => {
    const chosen = chooseExamples(sampleReport(), 3);
    expect(chosen.map((c) => [c.id, c.attack, c.eps, c.fellAt, c.recordedPrediction])).toEqual([
      ['t/2', 'fgsm', 0.1, 0.1, 7],
      ['t/3', 'pgd', 0.1, 0.1, 5],
      ['t/0', 'pgd', 0.3, 0.3, 6],
    ]);
  });

  it('fills up with examples that held, at the largest ε under the strongest attack, and never a clean mistake', () => {
    const chosen = chooseExamples(sampleReport(), 10);
    expect(chosen.map((c) => c.id)).toEqual(['t/2', 't/3', 't/0', 't/1', 't/4']);
    expect(chosen.at(-1)).toMatchObject({ id: 't/4', attack: 'pgd', eps: 0.3, fellAt: null, recordedPrediction: 4, label: 4, cleanPrediction: 4 });
  });

  it('carries the targets of a targeted evaluation', () => {
    const report = sampleReport();
    report.examples.targets = [9, 8, 7, 6, 5, 4];
    expect(chooseExamples(report, 1)[0]).toMatchObject({ id: 't/2', target: 7 });
  });
});

describe('chooseExamples with a grid filter', () => {
  const pick = (filter: Parameters<typeof chooseExamples>[2], count = 8) => chooseExamples(sampleReport(), count, filter).map((c) => [c.id, c.attack, c.eps, c.fooled]);

  it('gives a quarter of the places to examples that held when there are some', () => {
    expect(pick({}, 4)).toEqual([
      ['t/2', 'fgsm', 0.1, true],
      ['t/3', 'pgd', 0.1, true],
      ['t/0', 'pgd', 0.3, true],
      ['t/4', 'pgd', 0.3, false],
    ]);
  });

  it('shows only the examples that held, under the chosen attack or at the chosen ε', () => {
    expect(pick({ fate: 'robust' })).toEqual([['t/4', 'pgd', 0.3, false]]);
    // Held under FGSM at both ε: 0, 3 and 4 (never a clean mistake such as 5).
    expect(pick({ fate: 'robust', attack: 'fgsm' })).toEqual([
      ['t/0', 'fgsm', 0.3, false],
      ['t/3', 'fgsm', 0.3, false],
      ['t/4', 'fgsm', 0.3, false],
    ]);
    // Held under both attacks at 0.1, shown under the one with the lower accuracy there (pgd).
    expect(pick({ fate: 'robust', eps: 0.1 })).toEqual([
      ['t/0', 'pgd', 0.1, false],
      ['t/1', 'pgd', 0.1, false],
      ['t/4', 'pgd', 0.1, false],
    ]);
  });

  it('shows only the fooled examples of one attack, one ε or some classes', () => {
    expect(pick({ fate: 'fooled', attack: 'pgd' })).toEqual([
      ['t/2', 'pgd', 0.1, true],
      ['t/3', 'pgd', 0.1, true],
      ['t/0', 'pgd', 0.3, true],
      ['t/1', 'pgd', 0.3, true],
    ]);
    expect(pick({ fate: 'fooled', eps: 0.3, classes: [1, 2] })).toEqual([
      ['t/1', 'fgsm', 0.3, true],
      ['t/2', 'fgsm', 0.3, true],
    ]);
    expect(pick({ classes: [4] })).toEqual([['t/4', 'pgd', 0.3, false]]);
    expect(pick({ classes: [5] })).toEqual([]);
  });

  it('in a sequential suite shows an attack only on the examples it ran on', () => {
    const report = sampleReport();
    report.config.mode = 'sequential';
    // PGD ran only on the examples FGSM left standing; its cells repeat FGSM's predictions for the others.
    report.examples.results[2]!.attacked = [1, 1, 0, 1, 1, 0];
    report.examples.results[3]!.attacked = [1, 0, 0, 1, 1, 0];
    expect(chooseExamples(report, 8, { fate: 'fooled', attack: 'pgd' }).map((c) => [c.id, c.eps])).toEqual([
      ['t/3', 0.1],
      ['t/0', 0.3],
    ]);
  });
});
