import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelPath } from '../../src/package-info.js';
import { recordBaseline } from '../../src/regression/baseline.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import { runCheck } from '../../src/regression/check.js';
import { checkJson, renderCheck, renderClassDeltas } from '../../src/regression/render.js';
import { classDeltaMarkdown, classDeltas, classDeltaSection, type ClassCounts } from '../../src/report/class-deltas.js';
import { regressionTableFromCheck } from '../../src/report/regression-table.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { useTestBackend } from '../helpers/backend.js';
import { perClassFigures } from '../../src/report/breakdown.js';
import { compareRuns } from '../../src/report/compare.js';
import { compareMarkdown, renderCompareHtml } from '../../src/report/compare-html.js';
import { sampleReport } from '../report/sample-report.js';

const NAMES = ['airplane', 'automobile', 'bird', 'cat'];

/** Four classes of 5 examples; the candidate loses 2 of class 2's robust examples at ε = 0.2 (worst case and pgd). */
function counts(lost: number): ClassCounts[] {
  const n = [5, 5, 5, 5];
  return [
    { attack: 'fgsm', eps: 0.1, n, robust: [4, 3, 5, 2] },
    { attack: 'fgsm', eps: 0.2, n, robust: [3, 2, 4, 1] },
    { attack: 'pgd', eps: 0.1, n, robust: [4, 3, 4, 2] },
    { attack: 'pgd', eps: 0.2, n, robust: [2, 2, 4 - lost, 1] },
    { attack: 'worst case', eps: 0.1, n, robust: [4, 3, 4, 2] },
    { attack: 'worst case', eps: 0.2, n, robust: [2, 2, 4 - lost, 1] },
  ];
}

describe('per-class deltas of a check', () => {
  const deltas = classDeltas('after', counts(0), counts(2));

  it('shows a negative delta for the class that lost examples, and for that class only', () => {
    const dropped = deltas.filter((d) => d.change !== 0);
    expect(dropped.map((d) => [d.series, d.eps, d.cls, d.before.robust, d.after.robust])).toEqual([
      ['pgd', 0.2, 2, 4, 2],
      ['worst case', 0.2, 2, 4, 2],
    ]);
    expect(dropped[0]!.change).toBeCloseTo(-0.4, 12);

    // Terminal: the worst case (the headline), class 2 −40.0 at ε = 0.2, every other cell ±0.0.
    const text = renderClassDeltas({ classDeltas: deltas, classNames: NAMES, figures: [] });
    expect(text[0]).toBe('per-class robust accuracy (worst case), before → after (change in pts):');
    const rows = text[1]!.split('\n').filter((l) => /^│ \d/.test(l));
    expect(rows).toHaveLength(4);
    const bird = rows.find((l) => l.startsWith('│ 2 bird'))!;
    expect(bird).toMatch(/80\.0% → 80\.0% \(±0\.0\) │ 80\.0% → 40\.0% \(−40\.0\) │$/);
    for (const r of rows.filter((l) => l !== bird)) expect(r).not.toContain('−');
    expect(Math.max(...text[1]!.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(100);

    // HTML: the one red (lost) cell is class 2's at ε = 0.2; the classes by name.
    const html = classDeltaSection(deltas, { classNames: NAMES });
    const headline = html.slice(0, html.indexOf('<details>'));
    expect(headline.match(/<td class="lost"[^>]*>[^<]*<\/td>/g)).toEqual(['<td class="lost" data-value="-0.4">−40.0</td>']);
    expect(/<tr><td class="text">2 bird<\/td>.*?<\/tr>/.exec(headline)![0]).toContain('class="lost"');
    expect(headline).toContain('<h2>Per-class changes (worst case)</h2>');
    // Each attack's own table, folded: pgd loses class 2 too, fgsm nothing.
    expect(html).toContain('<summary>Per attack (2)</summary>');
    expect(html.slice(html.indexOf('<h3>fgsm</h3>'), html.indexOf('<h3>pgd</h3>'))).not.toContain('class="lost"');
    expect(html.slice(html.indexOf('<h3>pgd</h3>'))).toContain('<td class="lost" data-value="-0.4">');

    // Markdown: the same cell.
    const md = classDeltaMarkdown(deltas, { classNames: NAMES }).join('\n');
    expect(md).toMatch(/\| 2 bird +\| +5 \| +80\.0% → 80\.0% \(±0\.0\) \| 80\.0% → 40\.0% \(−40\.0\) \|/);
    expect(md.match(/−/g)).toHaveLength(1);
  });

  it('in the terminal: a table wider than 100 columns is one line pointing to --wide; --wide shows it and each attack', () => {
    const many = (lost: number): ClassCounts[] => [0.05, 0.1, 0.15, 0.2, 0.25].map((eps) => ({ attack: 'worst case', eps, n: [5, 5], robust: [4, 4 - lost] }));
    const wideDeltas = classDeltas('after', many(0), many(1));
    const narrow = renderClassDeltas({ classDeltas: wideDeltas, figures: [] });
    expect(narrow).toEqual(['per-class robust accuracy (worst case): 2 classes × 5 ε do not fit 100 columns: see --wide, --md or --html']);
    const wide = renderClassDeltas({ classDeltas: wideDeltas, figures: [] }, true);
    expect(wide[1]).toContain('80.0% → 60.0% (−20.0)');
    expect(renderClassDeltas({ classDeltas: deltas, figures: [] }, true).filter((l) => l.startsWith('per-class'))).toEqual([
      'per-class robust accuracy (worst case), before → after (change in pts):',
      'per-class robust accuracy (fgsm), before → after (change in pts):',
      'per-class robust accuracy (pgd), before → after (change in pts):',
    ]);
  });
});

describe('per-class deltas of advtest compare', () => {
  it('are the same function and table as the check\'s', () => {
    const a = sampleReport();
    const b = sampleReport();
    // The second run: example 4 (class 4, robust throughout) falls to PGD at ε = 0.3.
    b.examples.results.find((r) => r.attack === 'pgd' && r.eps === 0.3)!.predictions[4] = 7;
    const c = compareRuns([
      { label: 'a', report: a },
      { label: 'b', report: b },
    ]);
    expect(c.classDeltas).toEqual(classDeltas('b', perClassFigures(a), perClassFigures(b)));
    expect(c.classDeltas.filter((d) => d.change !== 0).map((d) => [d.series, d.eps, d.cls, d.change])).toEqual([
      ['pgd', 0.3, 4, -1],
      ['worst case', 0.3, 4, -1],
    ]);
    const section = /<section id="class-deltas">(.*?)<\/section>/s.exec(renderCompareHtml(c, '<svg></svg>'))![1]!;
    expect(section).toContain('<h2>Per-class changes (worst case)</h2>');
    expect(section.match(/class="lost"/g)).toHaveLength(2);
    expect(compareMarkdown(c)).toMatch(/\| 4 +\| +1 \| 100\.0% → 100\.0% \(±0\.0\) \| 100\.0% → 0\.0% \(−100\.0\) \|/);
  });
});

describe('checking against a baseline with and without per-class counts', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-class-deltas-'));
    file = path.join(dir, 'robustness.json');
    await recordBaseline({ modelDir: fixtureModelPath('mnist-cnn'), data: 'mnist', request: { attack: 'fgsm' }, epsilons: [0.1, 0.2], limit: 20, seed: 0, batchSize: 20, target: 'untargeted', out: file });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a re-recorded baseline: per-class counts that add up, deltas of zero for the same model', async () => {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Baseline;
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    expect(stored.perClass!.map((c) => [c.attack, c.eps, sum(c.n), sum(c.robust)])).toEqual(stored.figures.results.map((r) => [r.attack, r.eps, 20, r.correct]));
    const check = await runCheck({ baseline: file });
    expect(check.classNotice).toBeUndefined();
    // 10 digits × 2 ε, each unchanged.
    expect(check.classDeltas).toHaveLength(20);
    expect(check.classDeltas!.every((d) => d.change === 0 && d.before.robust === d.after.robust)).toBe(true);
    const text = renderCheck(check);
    expect(text).toContain('per-class robust accuracy (fgsm (linf)), before → after (change in pts):');
    expect(text).not.toContain('re-recorded');
    // --json: the same deltas, as counts.
    expect(checkJson(check).classDeltas).toEqual(check.classDeltas);
  });

  it('an old baseline without them still loads, and the check says in one line how to re-record it', async () => {
    const old = path.join(dir, 'old.json');
    const stored = JSON.parse(await readFile(file, 'utf8')) as Baseline;
    delete stored.perClass;
    await writeFile(old, JSON.stringify(stored));
    const check = await runCheck({ baseline: old });
    expect(check.passed).toBe(true);
    expect(check.classDeltas).toBeUndefined();
    // Paths relative to the working directory when below it, else absolute (the temporary folder).
    const shown = (p: string) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p));
    const command = `advtest baseline --model ${shown(fixtureModelPath('mnist-cnn'))} --data mnist --limit 20 --attack fgsm --eps 0.1,0.2 --seed 0 --batch-size 20 --out ${shown(old)} --force`;
    expect(check.classNotice).toBe(`per-class deltas need a re-recorded baseline (this one holds no per-class counts): \`${command}\``);
    const lines = renderCheck(check).split('\n');
    expect(lines.filter((l) => l.includes('per-class'))).toEqual([`note: ${check.classNotice}`]);
    // Markdown and the page say it too (the page where the table would be).
    const md = renderMarkdown({ regression: regressionTableFromCheck(check), report: check.report });
    expect(md).toContain(`Note: ${check.classNotice}`);
    expect(md).not.toContain('Per-class robust accuracy');
    expect(checkJson(check).classDeltas).toBeNull();
  });
});
