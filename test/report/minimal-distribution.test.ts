import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { buildHtml } from '../../src/report/build-html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { minimalDistributions } from '../../src/report/minimal-distribution.js';
import { minimalReport } from './minimal-report.js';

describe('distributions of the minimal attacks', () => {
  let report: Report;
  beforeAll(async () => {
    report = await minimalReport();
  });

  it('has a histogram of the found distances, and a CDF that the evaluated ε read off', () => {
    const dists = minimalDistributions(report);
    expect(dists.map((d) => d.attack)).toEqual(['deepfool-linf']);
    const d = dists[0]!;
    const summary = report.minimalPerturbation![0]!;
    expect([d.of, d.found, d.median, d.mean]).toEqual([summary.of, summary.found, summary.median, summary.mean]);
    expect(d.histogram.reduce((a, b) => a + b.count, 0)).toBe(d.found);
    // The CDF at each evaluated ε is the fraction fooled there, as the harness judged it.
    const at = (eps: number) => d.cdf.filter((p) => p.eps <= eps).at(-1)!.fraction;
    expect(d.evaluated.map((e) => e.eps)).toEqual([0.05, 0.1, 0.2]);
    for (const e of d.evaluated) expect(at(e.eps)).toBeCloseTo(e.fraction, 9);
    expect(d.evaluated.some((e) => e.fraction > 0)).toBe(true);
    // The median is the CDF's middle: at least half within it.
    if (d.median !== null) expect(at(d.median)).toBeGreaterThanOrEqual(0.5);
  });

  it('draws them in the HTML report, ahead of the results', async () => {
    const html = await buildHtml({ report });
    expect(html).toMatch(/<section id="minimal"><h2>Smallest perturbation found \(minimal attacks\)<\/h2>\s*<figure class="chart"><svg/);
    expect(html.indexOf('<section id="minimal">')).toBeLessThan(html.indexOf('<section id="results">'));
    // Reports without a minimal attack have no such section.
    expect(await buildHtml({ report: { ...report, examples: { ...report.examples, minimal: undefined } } })).not.toContain('id="minimal"');
  });

  it('lists them in the Markdown report as a table with quartiles, under a footnote', () => {
    const md = renderMarkdown({ report });
    const d = minimalDistributions(report)[0]!;
    const row = md.split('\n').find((l) => /^\| deepfool-linf +\| L∞/.test(l))!;
    const cells = row.split('|').slice(1, -1).map((c) => c.trim());
    expect(cells.slice(0, 3)).toEqual(['deepfool-linf', 'L∞', `${d.found}/${d.of}`]);
    expect(cells[4]).toBe(d.median === null ? '∞' : d.median.toPrecision(4));
    // The quartiles are read off the CDF: at least a quarter (three quarters) of the examples within them.
    const at = (eps: number) => d.cdf.filter((p) => p.eps <= eps).at(-1)!.fraction;
    const [lower, upper] = [cells[3]!, cells[5]!];
    if (lower !== '∞') expect(at(Number(lower) * (1 + 1e-4))).toBeGreaterThanOrEqual(0.25);
    if (upper !== '∞') expect(at(Number(upper) * (1 + 1e-4))).toBeGreaterThanOrEqual(0.75);
    expect(md).toContain('**Smallest perturbation found (minimal attacks)**');
    expect(md).toContain('One with none found counts as infinitely far');
  });
});
