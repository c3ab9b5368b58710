import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SanityCheck } from '../../src/harness/report-types.js';
import { packageRoot } from '../../src/package-info.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import type { CheckedFigure, CheckResult } from '../../src/regression/check.js';
import { checkJson, renderCheck } from '../../src/regression/render.js';
import { renderHtml } from '../../src/report/html.js';
import { regressionTableFromCheck } from '../../src/report/regression-table.js';
import { sampleReport } from '../report/sample-report.js';

const FIXTURE = path.join(packageRoot(), 'fixtures', 'baselines', 'mnist-cnn.json');

const count = (correct: number, n = 10000) => ({ correct, n, accuracy: correct / n });

/** A figure of a sequential suite on the full MNIST test set: wide counts, long verdicts. */
function figure(kind: CheckedFigure['kind'], before: number, after: number, lost: number, gained: number, verdict: CheckedFigure['verdict'], extra: Partial<CheckedFigure> = {}): CheckedFigure {
  return { kind, before: count(before), after: count(after), change: (after - before) / 10000, lost, gained, pValue: verdict === 'regression' ? 1e-9 : 0.2, verdict, lostIds: [], ...extra };
}

const BEFORE: SanityCheck[] = [
  { id: 'monotone:apgd-dlr', ok: true, message: 'apgd-dlr: accuracy does not rise as ε grows' },
  { id: 'finite-gradients', ok: true, message: 'input gradients are finite' },
  { id: 'converged', ok: false, message: 'attack success was still rising at the last iteration', advice: 'run more steps' },
];
const AFTER: SanityCheck[] = [
  { id: 'monotone:apgd-dlr', ok: true, message: 'apgd-dlr: accuracy does not rise as ε grows' },
  { id: 'finite-gradients', ok: false, message: 'input gradients hold NaN or ∞ on 3/100 examples', advice: 'check the model for log(0)' },
  { id: 'converged', ok: true, message: 'every iterative attack had stopped gaining' },
  { id: 'unbounded-eps', ok: true, message: 'apgd-ce at an unbounded ε = 1 brings accuracy to 0.0% (≤ chance)' },
];

async function result(sanity: CheckResult['sanity']): Promise<CheckResult> {
  const baseline = JSON.parse(await readFile(FIXTURE, 'utf8')) as Baseline;
  const figures = [
    figure('clean', 9912, 9905, 9, 2, 'within tolerance'),
    figure('attack', 8123, 5600, 2600, 77, 'regression', { attack: 'apgd-ce', norm: 'linf', eps: 8 / 255 }),
    figure('attack', 5600, 5500, 130, 30, 'not significant', { attack: 'apgd-dlr', norm: 'linf', eps: 8 / 255, cumulative: true }),
    figure('worst case', 5600, 5500, 130, 30, 'not significant', { eps: 8 / 255 }),
  ];
  const report = sampleReport();
  return {
    baselinePath: 'ci/robustness.json',
    baseline,
    model: 'models/candidate',
    options: { tolerance: 0.01, alpha: 0.05, test: 'paired' },
    figures,
    regressions: figures.filter((f) => f.verdict === 'regression'),
    passed: false,
    notes: [],
    sanity,
    report: { ...report, sanity: sanity.after },
  };
}

const tableLines = (text: string) => text.split('\n').filter((l) => /^[┌│└]/.test(l));

describe('the check terminal table', () => {
  it('fits 100 columns by default, with the intervals and per-row norms under --wide', async () => {
    const r = await result({ before: BEFORE, after: AFTER });
    const narrow = renderCheck(r);
    const figureTable = tableLines(narrow).filter((l) => !l.includes('sanity check') && !/│ (monotone|finite|converged|unbounded)/.test(l));
    expect(Math.max(...figureTable.map((l) => [...l].length))).toBeLessThanOrEqual(100);
    expect(narrow).toMatch(/│ figure \(linf\) +│ ε +│ before +│ after +│ change +│ lost +│ gained +│ p +│ verdict +│/);
    expect(narrow).toMatch(/│ \+ apgd-dlr +│ 8\/255 │ 56\.0% +│ 55\.0% +│ -1\.0 pts +│ 130 +│ 30 +│ 0\.2000 +│ not significant +│/);
    expect(narrow).not.toContain('[');
    const wide = renderCheck(r, { wide: true });
    expect(wide).toMatch(/│ figure +│ ε +│ before \[95% CI\] +│ after \[95% CI\] +│ change +│ lost +│ gained +│ p +│ verdict +│/);
    // Wilson 95% interval of 5600/10000.
    expect(wide).toMatch(/│ \+ apgd-dlr \(linf\) │ 8\/255 │ 56\.0% \[55\.0%, 57\.0%\] │ 55\.0% \[54\.0%, 56\.0%\] │ -1\.0 pts +│ 130 +│ 30 +│/);
    expect(Math.max(...tableLines(wide).map((l) => [...l].length))).toBeGreaterThan(100);
  });

  it('lists every sanity check of both runs, one row each, and each flag with its run', async () => {
    const text = renderCheck(await result({ before: BEFORE, after: AFTER }));
    expect(text).toContain('sanity checks: before 2/3 passed, 1 flagged · after 3/4 passed, 1 flagged');
    const rows = tableLines(text).filter((l) => /^│ (monotone|finite|converged|unbounded)/.test(l)).map((l) => l.split('│').slice(1, 4).map((c) => c.trim()));
    expect(rows).toEqual([
      ['monotone:apgd-dlr', '✓', '✓'],
      ['finite-gradients', '✓', '✗ flag'],
      ['converged', '✗ flag', '✓'],
      ['unbounded-eps', '—', '✓'],
    ]);
    expect(text).toContain('  ✗ before: attack success was still rising at the last iteration\n    → try: run more steps');
    expect(text).toContain('  ✗ after: input gradients hold NaN or ∞ on 3/100 examples\n    → try: check the model for log(0)');
  });

  it('says "not recorded" for a baseline without sanity checks, in the table and the JSON', async () => {
    const r = await result({ after: AFTER });
    const text = renderCheck(r);
    expect(text).toContain('sanity checks: before not recorded · after 3/4 passed, 1 flagged');
    expect(tableLines(text).filter((l) => /^│ (monotone|finite|converged|unbounded)/.test(l)).every((l) => l.split('│')[2]!.trim() === '—')).toBe(true);
    expect(checkJson(r).sanity).toEqual({ before: null, after: AFTER });
    expect(checkJson(await result({ before: BEFORE, after: AFTER })).sanity).toEqual({ before: BEFORE, after: AFTER });
  });
});

describe('the check page', () => {
  /** The <li> items of the sanity section, per run block. */
  function sanityBlocks(html: string): { heading: string; items: number }[] {
    const section = /<section id="sanity">(.*?)<\/section>/s.exec(html)?.[1] ?? '';
    return [...section.matchAll(/<h3>(.*?)<\/h3>(.*?)<\/div>/gs)].map((m) => ({ heading: m[1]!, items: (m[2]!.match(/<li /g) ?? []).length }));
  }

  it('shows the sanity checks of both runs side by side', async () => {
    const r = await result({ before: BEFORE, after: AFTER });
    const html = renderHtml({ regression: regressionTableFromCheck(r), report: r.report });
    expect(sanityBlocks(html)).toEqual([
      { heading: 'before: baseline ci/robustness.json: 2/3 passed', items: 3 },
      { heading: 'after: models/candidate: 3/4 passed', items: 4 },
    ]);
    expect(html).toContain('<span class="advice">Try: run more steps</span>');
    // One sanity section, not the report's own besides.
    expect(html.match(/<section id="sanity">/g)).toHaveLength(1);
  });

  it('says the baseline\'s checks were not recorded', async () => {
    const r = await result({ after: AFTER });
    const blocks = sanityBlocks(renderHtml({ regression: regressionTableFromCheck(r), report: r.report }));
    expect(blocks).toEqual([
      { heading: 'before: baseline ci/robustness.json: not recorded', items: 0 },
      { heading: 'after: models/candidate: 3/4 passed', items: 4 },
    ]);
  });
});
