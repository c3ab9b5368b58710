import { describe, expect, it } from 'vitest';
import { chooseExamples } from '../../src/report/examples.js';
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
