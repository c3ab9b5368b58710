import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/report/markdown.js';
import { sampleLeaderboard, sampleRegression, sampleReport } from './sample-report.js';

describe('renderMarkdown', () => {
  it('writes an evaluation as GitHub-flavoured tables', () => {
    expect(renderMarkdown({ report: sampleReport() })).toBe(`### Robustness of models/tiny

mnist test, 6 examples (class-balanced subset of 6) · clean accuracy **83.3%** [43.6%, 97.0%] (5/6)

| attack      |   ε |    accuracy [95% CI] | 8-bit | success | mean L∞ | mean L2 |
| :---------- | --: | -------------------: | ----: | ------: | ------: | ------: |
| fgsm (linf) | 0.1 | 66.7% [30.0%, 90.3%] | 66.7% |   20.0% |  0.1000 |  2.0000 |
| fgsm (linf) | 0.3 | 50.0% [18.8%, 81.2%] | 50.0% |   40.0% |  0.3000 |  6.0000 |
| pgd (linf)  | 0.1 | 50.0% [18.8%, 81.2%] | 50.0% |   40.0% |  0.1000 |  1.5000 |
| pgd (linf)  | 0.3 |  16.7% [3.0%, 56.4%] | 16.7% |   80.0% |  0.3000 |  4.5000 |

**Worst case over attacks**

|   ε |    accuracy [95% CI] | 8-bit |
| --: | -------------------: | ----: |
| 0.1 | 50.0% [18.8%, 81.2%] | 50.0% |
| 0.3 |  16.7% [3.0%, 56.4%] | 16.7% |

Brackets: 95% Wilson intervals. 8-bit: the same adversarial images rounded to what a PNG holds.

Sanity checks: 1/2 passed, 1 flagged:
- ✗ pgd leaves 20% accuracy at ε = 1 | the whole range — try: use more steps

<sub>advtest 0.1.0 · wasm (tfjs 4.22.0, advtest gradient kernels) · seed 7 · config abcdef012345</sub>
`);
  });

  it('writes a regression check and a leaderboard, best model first, pipes escaped', () => {
    expect(renderMarkdown({ title: 'Nightly', leaderboard: sampleLeaderboard(), regression: sampleRegression() })).toBe(`### Nightly

**Regression check: FAIL** against \`robustness.json\` (drop > 1.0 pts and p < 0.05, paired test)

| figure      |   ε |               before |                after |   change |       p | verdict        |
| :---------- | --: | -------------------: | -------------------: | -------: | ------: | :------------- |
| clean       |     | 97.0% [95.0%, 98.0%] | 97.0% [95.0%, 98.0%] | ±0.0 pts |  1.0000 | unchanged      |
| fgsm (linf) | 0.1 | 80.0% [75.0%, 84.0%] | 72.0% [67.0%, 77.0%] | −8.0 pts | <0.0001 | **REGRESSION** |
| worst case  | 0.1 | 80.0% [75.0%, 84.0%] | 81.0% [76.0%, 85.0%] | +1.0 pts |  0.7000 | improved       |

**Leaderboard at ε = 0.3 (linf)**

|  # | model        |                clean |                 fgsm |                  pgd |               worst case | training |
| -: | :----------- | -------------------: | -------------------: | -------------------: | -----------------------: | -------: |
|  1 | adv\\|trained | 98.0% [97.0%, 99.0%] | 90.0% [88.0%, 92.0%] | 89.0% [87.0%, 91.0%] | **88.5% [86.5%, 90.5%]** | 60.0 min |
|  2 | smoothed     | 95.0% [94.0%, 96.0%] | 50.0% [47.0%, 53.0%] |                    — | **50.0% [47.0%, 53.0%]** |        — |
|  3 | standard     | 99.0% [98.0%, 99.5%] |  10.0% [8.0%, 12.0%] |    0.0% [0.0%, 0.4%] |    **0.0% [0.0%, 0.4%]** |     60 s |
`);
  });

  it('marks leaderboard rows whose evaluation failed a sanity check, with a note under the table', () => {
    const board = sampleLeaderboard();
    board.rows[0]!.flags = [];
    board.rows[1]!.flags = ['nonzero-gradients', 'unbounded-eps'];
    const md = renderMarkdown({ leaderboard: board });
    expect(md).toMatch(/\| +worst case \| training \| sanity +\|/);
    expect(md).toMatch(/\| +1 \| adv\\\|trained .*\| ⚠ nonzero-gradients, unbounded-eps \|/);
    expect(md).toMatch(/\| +3 \| standard .*\| ok +\|$/m);
    expect(md).toMatch(/\| +2 \| smoothed .*\| — +\|$/m);
    expect(md).toContain('⚠: the evaluation failed these sanity checks');
    // Without any checks the column and the note stay out.
    expect(renderMarkdown({ leaderboard: sampleLeaderboard() })).not.toMatch(/sanity/);
  });

  it('leaves out the worst-case table for a single attack', () => {
    const report = sampleReport();
    report.config.attacks = report.config.attacks.slice(0, 1);
    report.results = report.results.slice(0, 2);
    expect(renderMarkdown({ report })).not.toContain('Worst case');
  });
});
