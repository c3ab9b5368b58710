import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/report/markdown.js';
import { regressionTableFromCheck } from '../../src/report/regression-table.js';

describe('regressionTableFromCheck', () => {
  it('turns the figures of advtest check into plain rows with Wilson intervals', () => {
    const table = regressionTableFromCheck({
      baselinePath: 'robustness.json',
      passed: false,
      options: { tolerance: 0.01, alpha: 0.05, test: 'paired' },
      figures: [
        { kind: 'clean', before: { correct: 9, n: 10, accuracy: 0.9 }, after: { correct: 9, n: 10, accuracy: 0.9 }, change: 0, lost: 0, gained: 0, pValue: 1, verdict: 'unchanged', lostIds: [] },
        { kind: 'attack', attack: 'fgsm', norm: 'linf', eps: 0.1, before: { correct: 8, n: 10, accuracy: 0.8 }, after: { correct: 5, n: 10, accuracy: 0.5 }, change: -0.3, lost: 3, gained: 0, pValue: 0.125, verdict: 'not significant', lostIds: ['a', 'b', 'c'] },
      ],
    });
    expect(table.rule).toBe('drop > 1.0 pts and p < 0.05, paired test');
    expect(table.rows.map((r) => [r.figure, r.eps, r.verdict])).toEqual([
      ['clean', undefined, 'unchanged'],
      ['fgsm (linf)', 0.1, 'not significant'],
    ]);
    // Wilson 95% interval of 5/10.
    expect(table.rows[1]!.after.interval[0]).toBeCloseTo(0.2366, 4);
    expect(table.rows[1]!.after.interval[1]).toBeCloseTo(0.7634, 4);
    // A paired check has the lost and gained columns the terminal shows, with their footnote.
    const md = renderMarkdown({ regression: table });
    expect(md).toContain('| figure      |   ε |               before |                after |    change | lost | gained |      p | verdict         |');
    expect(md).toContain('| fgsm (linf) | 0.1 | 80.0% [49.0%, 94.3%] | 50.0% [23.7%, 76.3%] | −30.0 pts |    3 |      0 | 0.1250 | not significant |');
    expect(md).toContain('lost: examples robust in the baseline and not now; gained: the reverse');
    // Without them (an unpaired check) neither the columns nor the footnote.
    const unpaired = renderMarkdown({ regression: { ...table, rows: table.rows.map(({ lost: _l, gained: _g, ...r }) => r) } });
    expect(unpaired).toContain('| fgsm (linf) | 0.1 | 80.0% [49.0%, 94.3%] | 50.0% [23.7%, 76.3%] | −30.0 pts | 0.1250 | not significant |');
    expect(unpaired).not.toContain('lost');
  });
});
