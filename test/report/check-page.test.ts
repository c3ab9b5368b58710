import { describe, expect, it } from 'vitest';
import { buildHtml } from '../../src/report/build-html.js';
import { runCurvesSpec } from '../../src/report/compare.js';
import { curvePoints } from '../../src/report/curve-chart.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { baselineCurvePoints, regressionTableFromCheck } from '../../src/report/regression-table.js';
import { sampleReport } from './sample-report.js';
import { baselineOf, sampleCheck } from './sample-check.js';

describe('the check page and check --md', () => {
  it("names the baseline's figures as curvePoints names the report's", () => {
    const report = sampleReport();
    expect(baselineCurvePoints(baselineOf(report))).toEqual(curvePoints(report));
    const seq = sampleReport();
    seq.config.mode = 'sequential';
    expect(baselineCurvePoints(baselineOf(seq))).toEqual(curvePoints(seq));
    expect(new Set(curvePoints(seq).map((p) => p.series))).toEqual(new Set(['fgsm', '+ pgd', 'worst case']));
  });

  it('draws the baseline and the re-run on one chart, one colour per run', async () => {
    const table = regressionTableFromCheck(sampleCheck());
    expect(table.curves!.map((c) => c.label)).toEqual(['before', 'after']);
    // The spec: every series of both runs, the baseline's own figures for "before".
    const spec = runCurvesSpec(table.curves!) as unknown as { layer: { data: { values: { line: string; run: string; eps: number; accuracy: number }[] } }[] };
    const lines = new Set(spec.layer[0]!.data.values.map((p) => p.line));
    expect(lines).toEqual(new Set(['before · fgsm', 'before · pgd', 'before · worst case', 'after · fgsm', 'after · pgd', 'after · worst case']));
    const at = (line: string) => spec.layer[0]!.data.values.find((p) => p.line === line && p.eps === 0.3)!.accuracy;
    expect(at('before · pgd')).toBeCloseTo(4 / 6, 12);
    expect(at('after · pgd')).toBeCloseTo(1 / 6, 5);
    // The page's SVG: a legend entry per run and each line named at its end.
    const html = await buildHtml({ regression: table, report: sampleReport() });
    const curves = /<section id="curves">(.*?)<\/section>/s.exec(html)![1]!;
    for (const line of lines) expect(curves).toContain(`>${line}</text>`);
    expect(curves).toMatch(/>before<\/text>/);
    expect(curves).toMatch(/>after<\/text>/);
    expect(curves).toContain('One colour per run (before, after)');
    // Without a check (eval --html) the single-run chart, no runs.
    const single = /<section id="curves">(.*?)<\/section>/s.exec(await buildHtml({ report: sampleReport() }))![1]!;
    expect(single).not.toContain('before · ');
  });

  it("counts both runs' sanity checks in the summary card", () => {
    const html = renderHtml({ regression: regressionTableFromCheck(sampleCheck()), report: sampleReport() });
    expect(html).toContain('<div class="label">sanity checks</div><div class="value">before 1/2 · after 1/2</div><div class="detail">2 flagged: see below</div>');
    const old = renderHtml({ regression: regressionTableFromCheck(sampleCheck(null)), report: sampleReport() });
    expect(old).toContain('<div class="value">before — · after 1/2</div><div class="detail">1 flagged: see below</div>');
  });

  it('shows per-class changes: the worst case at each ε, red where a class dropped, each attack folded below', () => {
    const html = renderHtml({ regression: regressionTableFromCheck(sampleCheck()), report: sampleReport() });
    const section = /<section id="class-deltas">(.*?)<\/section>/s.exec(html)![1]!;
    expect(section).toContain('<h2>Per-class changes (worst case)</h2>');
    const headline = section.slice(0, section.indexOf('<details>'));
    // The baseline's worst case at ε = 0.3 held classes 0, 3 and 4; the re-run only 4.
    const lostRows = [...headline.matchAll(/<tr><td class="text">(\d)<\/td>(.*?)<\/tr>/g)].filter((m) => m[2]!.includes('class="lost"')).map((m) => m[1]);
    expect(lostRows).toEqual(['0', '3']);
    expect(headline).toContain('<td class="first" title="1/1">100.0%</td><td title="0/1">0.0%</td><td class="lost" data-value="-1">−100.0</td>');
    expect(section).toMatch(/<summary>Per attack \(2\)<\/summary><h3>fgsm \(linf\)<\/h3>.*<h3>pgd \(linf\)<\/h3>/s);
    expect(html).toContain('td.lost { color: var(--bad); }');
    // Named classes by their names.
    const named = renderHtml({ regression: { ...regressionTableFromCheck(sampleCheck()), classNames: ['zero', 'one', 'two', 'three', 'four', 'five'] }, report: sampleReport() });
    expect(named).toContain('<td class="text">3 three</td>');
    // check --md: the same table.
    const md = renderMarkdown({ regression: regressionTableFromCheck(sampleCheck()), report: sampleReport() });
    expect(md).toContain('**Per-class robust accuracy (worst case):** before → after (change in points)');
    expect(md).toMatch(/\| 3 +\| +1 \| +0\.0% → 0\.0% \(±0\.0\) \| 100\.0% → 0\.0% \(−100\.0\) \|/);
    // A baseline without per-class counts: the section says why, with the command.
    const notice = 'per-class deltas need a re-recorded baseline (this one holds no per-class counts): `advtest baseline --model m --out b.json`';
    const { classDeltas: _dropped, ...old } = sampleCheck();
    const oldHtml = renderHtml({ regression: regressionTableFromCheck({ ...old, classNotice: notice }), report: sampleReport() });
    expect(/<section id="class-deltas">(.*?)<\/section>/s.exec(oldHtml)![1]).toContain('counts): <code>advtest baseline --model m --out b.json</code></p>');
  });

  it("check --md shows both runs' sanity checks side by side, and each flag", () => {
    const md = renderMarkdown({ regression: regressionTableFromCheck(sampleCheck()), report: sampleReport() });
    expect(md).toContain('**Sanity checks:** before 1/2 passed, 1 flagged · after 1/2 passed, 1 flagged');
    expect(md).toMatch(/\| sanity check +\| +before +\| +after +\|/);
    expect(md).toMatch(/\| unbounded +\| +✓ +\| ✗ flag +\|/);
    expect(md).toMatch(/\| monotone:fgsm +\| ✗ flag +\| +✓ +\|/);
    expect(md).toContain('- ✗ before: fgsm: accuracy rises with ε — try: check the gradients');
    expect(md).toContain('- ✗ after: pgd leaves 20% accuracy at ε = 1 | the whole range — try: use more steps');
    // Not the re-run's checks a second time.
    expect(md).not.toContain('Sanity checks: 1/2 passed');
    const old = renderMarkdown({ regression: regressionTableFromCheck(sampleCheck(null)), report: sampleReport() });
    expect(old).toContain('**Sanity checks:** before not recorded · after 1/2 passed, 1 flagged');
    expect(old).toMatch(/\| unbounded +\| +— +\| ✗ flag +\|/);
  });
});
