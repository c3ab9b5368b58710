import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { confusionCounts, denseConfusion, perClassFigures, WORST_CASE } from '../../src/report/breakdown.js';
import { analysisCharts, buildHtml } from '../../src/report/build-html.js';
import { confusionSection } from '../../src/report/html-analysis.js';
import { addSums, convergenceCheck, convergenceRecorder, convergenceTrace, stillRising } from '../../src/report/convergence.js';
import { fellAtDistribution, medianRanks } from '../../src/report/fell-at.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { writeFixtureReport } from '../e2e/fixture-report.js';
import { sampleReport } from './sample-report.js';

describe('per-class figures and confusion on a hand-made report', () => {
  it('counts robust examples per true class, and the worst case takes the first attack that fooled each example', () => {
    const figures = perClassFigures(sampleReport());
    const at = (attack: string, eps: number) => figures.find((f) => f.attack === attack && f.eps === eps)!;
    // Labels 0..5, one each; example 5 is wrong clean; fgsm at 0.1 fools example 2, pgd at 0.1 example 3.
    expect(at('fgsm', 0.1)).toEqual({ attack: 'fgsm', eps: 0.1, n: [1, 1, 1, 1, 1, 1, 0, 0, 0, 0], clean: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], robust: [1, 1, 0, 1, 1, 0, 0, 0, 0, 0] });
    expect(at(WORST_CASE, 0.1).robust).toEqual([1, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(at(WORST_CASE, 0.3).robust).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    const worst01 = confusionCounts(sampleReport()).find((c) => c.attack === WORST_CASE && c.eps === 0.1)!;
    expect(worst01.counts).toEqual([
      [0, 0, 1],
      [1, 1, 1],
      [2, 7, 1],
      [3, 5, 1],
      [4, 4, 1],
      [5, 9, 1],
    ]);
  });
});

describe('many classes', () => {
  it('lists the commonest confusions instead of K × K matrices, and draws one per-class heatmap', async () => {
    const report = sampleReport();
    report.perClass = perClassFigures(report, 100);
    report.confusion = confusionCounts(report);
    report.probe = { n: 6, zeroGradients: 0, nonFiniteGradients: 0, repeatDifference: 0, numClasses: 100 };
    const html = confusionSection(report, undefined);
    expect(html).toContain('100 classes: a 100 × 100 matrix would not be readable');
    expect(html).not.toContain('table class="confusion"');
    // Worst case at 0.3 first (open): examples 0–3 changed class, 5 was wrong clean (5 → 9).
    const blocks = html.split('<details').slice(1);
    expect(blocks.map((b) => /ε = ([\d.]+): (\d+) examples changed class/.exec(b)!.slice(1))).toEqual([
      ['0.3', '5'],
      ['0.1', '3'],
    ]);
    const pairs = [...blocks[1]!.matchAll(/<tr><td class="text">(\d+)<\/td><td class="text">(\d+)<\/td><td>(\d+)<\/td><td>([\d.]+%)<\/td><\/tr>/g)].map((m) => m.slice(1));
    expect(pairs).toEqual([
      ['2', '7', '1', '100.0%'],
      ['3', '5', '1', '100.0%'],
      ['5', '9', '1', '100.0%'],
    ]);
    // The charts: a per-class heatmap (rect marks), no confusion heatmaps.
    const charts = await analysisCharts(report);
    expect(charts.confusion).toBeUndefined();
    expect(charts.perClass).toMatch(/aria-roledescription="rect mark container"/);
    expect(charts.perClass).toContain('worst case: robust accuracy per class');
    const bars = await analysisCharts({ ...report, perClass: perClassFigures(report), probe: { ...report.probe, numClasses: 10 } });
    expect(bars.perClass).not.toContain('robust accuracy per class');
    expect(bars.confusion).toBeDefined();
    // Ten classes keep the matrices.
    const ten = sampleReport();
    ten.confusion = confusionCounts(ten);
    expect(confusionSection(ten, undefined)).toContain('table class="confusion"');
  });
});

describe('the smallest breaking ε', () => {
  it('has a histogram, a CDF and a median with an order-statistic interval', () => {
    // fellAt [0.3, 0.3, 0.1, 0.1, null, 0]
    const d = fellAtDistribution(sampleReport());
    expect(d.histogram).toEqual([
      { eps: 0, count: 1 },
      { eps: 0.1, count: 2 },
      { eps: 0.3, count: 2 },
    ]);
    expect(d.held).toBe(1);
    expect(d.cdf.map((c) => c.fraction)).toEqual([1 / 6, 3 / 6, 5 / 6]);
    // Sorted: 0, 0.1, 0.1, 0.3, 0.3, held → lower median 0.1; for n = 6 the interval is ranks 1 and 6.
    expect(d.median).toEqual({ value: 0.1, interval: [0, null] });
  });

  it('uses the usual ranks for the median interval (n = 100: 40th and 61st)', () => {
    expect(medianRanks(100)).toEqual([40, 61]);
    expect(medianRanks(6)).toEqual([1, 6]);
    expect(medianRanks(3)).toEqual([1, 3]);
  });

  it('counts examples that hold again at a larger ε, where the CDF exceeds 1 − accuracy', () => {
    const r = sampleReport();
    // Example 2 fell at 0.1 but is robust at 0.3 (a non-monotone attack): the worst case at 0.3 has 2 robust.
    r.worstCase[1] = { ...r.worstCase[1]!, correct: 2 };
    expect(fellAtDistribution(r).recovered).toEqual([
      { eps: 0, count: 0 },
      { eps: 0.1, count: 0 },
      { eps: 0.3, count: 1 },
    ]);
  });
});

describe('convergence', () => {
  const trace = (robust: number[], n = 100) =>
    convergenceTrace('pgd', 0.3, { n, loss: robust.map(() => 0), robust: robust.map((r) => Math.round(r * n)), counted: robust.map(() => n) });

  it('flags an attack still gaining over its last 10% of iterations by ≥ 1 point and ≥ 5 examples', () => {
    const flat = trace([1, 0.6, 0.4, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35]);
    const rising = trace([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25]);
    // Rising, but by 3 examples only: not enough to move a figure significantly.
    const few = trace([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.34, 0.32]);
    expect(stillRising(flat)).toBeUndefined();
    expect(stillRising(few)).toBeUndefined();
    expect(stillRising(rising)).toEqual({ from: 0.35, to: 0.25, since: 8 });
    expect(convergenceCheck([flat])!.ok).toBe(true);
    const check = convergenceCheck([flat, rising])!;
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/pgd at ε=0\.3 \(still robust 35\.0% at iteration 8 → 25\.0% at 10\)/);
    expect(check.advice).toMatch(/--steps/);
    expect(convergenceCheck([])).toBeUndefined();
  });

  it('adds batch sums exactly whatever their order (integer millionths)', () => {
    const parts = [0.1, 0.2, 0.3, 1e-7, 123.456789].map((loss) => {
      const r = convergenceRecorder();
      r.record(1, loss, 1, 1);
      return r.sums()!;
    });
    const forward = parts.reduce<ReturnType<typeof addSums>>((a, p) => addSums(a, p), undefined)!;
    const backward = [...parts].reverse().reduce<ReturnType<typeof addSums>>((a, p) => addSums(a, p), undefined)!;
    expect(forward).toEqual(backward);
    expect(forward.n).toBe(5);
    expect(convergenceTrace('a', 1, forward).iterations).toEqual([{ iteration: 1, meanLoss: 24.811358, robust: 1 }]);
  });
});

describe('on the fixture model (FGSM then PGD-5, sequential, 60 examples)', () => {
  let report: Report;
  beforeAll(async () => {
    ({ report } = await writeFixtureReport());
  });

  it('the per-class counts add up to every overall figure', () => {
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const figures = report.perClass!;
    expect(figures).toHaveLength(report.results.length + report.worstCase.length);
    for (const f of figures) {
      const overall = f.attack === WORST_CASE ? report.worstCase.find((w) => w.eps === f.eps)! : report.results.find((r) => r.attack === f.attack && r.eps === f.eps)!;
      expect(sum(f.robust)).toBe(overall.correct);
      expect(sum(f.clean)).toBe(report.clean.correct);
      expect(sum(f.n)).toBe(report.data.size);
    }
  });

  it("the confusion matrix's rows add up to the class counts and its diagonal to the robust count", () => {
    const counts = new Array<number>(10).fill(0);
    for (const y of report.examples.labels) counts[y]!++;
    for (const c of report.confusion!) {
      const m = denseConfusion(c, 10);
      expect(m.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(counts);
      const robust = c.attack === WORST_CASE ? report.worstCase.find((w) => w.eps === c.eps)!.correct : report.results.find((r) => r.attack === c.attack && r.eps === c.eps)!.correct;
      expect(m.reduce((a, row, i) => a + row[i]!, 0)).toBe(robust);
    }
  });

  it('the ε CDF at each evaluated ε is 1 − the worst-case robust accuracy there', () => {
    const d = fellAtDistribution(report);
    for (const w of report.worstCase) {
      const cdf = d.cdf.find((c) => c.eps === w.eps)!.fraction;
      expect(cdf).toBeCloseTo(1 - w.accuracy, 6);
      expect(cdf * report.data.size).toBeCloseTo(report.data.size - w.correct, 9);
    }
    // At ε = 0: the examples wrong clean.
    expect(d.cdf[0]!.fraction * report.data.size).toBeCloseTo(report.data.size - report.clean.correct, 9);
  });

  it('records PGD convergence whose last iteration matches the robust count the harness measured', () => {
    const traces = report.convergence!;
    expect(traces.map((t) => [t.attack, t.eps])).toEqual(report.config.epsilons.map((e) => ['pgd', e]));
    for (const t of traces) {
      const row = report.results.find((r) => r.attack === 'pgd' && r.eps === t.eps)!;
      expect(t.n).toBe(row.attacked);
      expect(t.iterations.map((i) => i.iteration)).toEqual([1, 2, 3, 4, 5]);
      // Sequential: the examples PGD attacked and did not fool are the robust ones after it.
      expect(Math.round(t.iterations.at(-1)!.robust * t.n)).toBe(row.correct);
      // Not yet fooled can only shrink.
      for (let i = 1; i < t.iterations.length; i++) expect(t.iterations[i]!.robust).toBeLessThanOrEqual(t.iterations[i - 1]!.robust);
    }
    expect(report.sanity!.find((c) => c.id === 'converged')).toBeDefined();
  });

  it('shows the per-class total row, the CDF table and the convergence chart in HTML, and the per-class table in Markdown', async () => {
    const html = await buildHtml({ report }, { notes: ['no images'] });
    for (const id of ['per-class', 'confusion', 'fell-at', 'convergence']) expect(html).toContain(`<section id="${id}">`);
    const total = /<tfoot><tr class="total">(.*?)<\/tr><\/tfoot>/.exec(html)![1]!;
    const cells = [...total.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    expect(cells).toEqual([String(report.data.size), pct(report.clean.accuracy), ...report.results.map((r) => pct(r.accuracy)), ...report.worstCase.map((w) => pct(w.accuracy))]);
    const md = renderMarkdown({ report });
    expect(md).toContain('**Per class: worst case**');
    expect(md).toMatch(new RegExp(`\\| \\*\\*all\\*\\* \\| +${report.data.size} \\|`));
    expect(md).toContain('`+` rows: sequential suite');
  });

  it('lists the convergence, margins and traced examples in Markdown, each with its footnote', () => {
    const md = renderMarkdown({ report });
    const rows = (heading: string) => {
      const lines = md.split('\n');
      const start = lines.indexOf(heading) + 2;
      const end = lines.findIndex((l, i) => i > start && l === '');
      return lines.slice(start + 2, end).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    };
    // Convergence: a row per PGD run and ε, from the first iteration's robust fraction to the last's.
    const conv = rows('**Convergence of the iterative attacks**');
    expect(conv).toHaveLength(report.convergence!.length);
    report.convergence!.forEach((t, i) => {
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      expect(conv[i]!.slice(0, 6)).toEqual(['+ pgd (linf)', String(t.eps), 'first', '5', String(t.n), String(Math.round((1 - t.iterations.at(-1)!.robust) * t.n))]);
      expect(conv[i]![6]).toBe(`${pct(t.iterations[0]!.robust)} → ${pct(t.iterations.at(-1)!.robust)}`);
    });
    expect(md).toMatch(/restarts attack only the examples left standing/);
    // Margins: a row per cell; "margin < 0" counts the adversarial examples misclassified among those correct clean.
    const margins = rows('**Margins and confidence, clean vs adversarial**');
    expect(margins).toHaveLength(report.results.length);
    report.results.forEach((r, i) => {
      const m = report.margins!.find((x) => x.attack === r.attack && x.eps === r.eps)!;
      expect(margins[i]![2]).toBe(String(m.n));
      // Sequential: an example fooled by FGSM keeps its FGSM image under PGD, so the count is per cell.
      expect(Number(margins[i]![7])).toBe(report.clean.correct - r.correct);
    });
    expect(md).toContain('margin = logit of the true class minus the largest other logit');
    // Traces: the three traced examples under each ε of PGD (when correct clean).
    const traced = rows('**Traced examples (--trace)**');
    expect(traced).toHaveLength(report.traces!.length);
    expect(traced.map((r) => r[1])).toEqual(report.traces!.map((t) => String(t.index)));
    expect(md).toContain('a margin below 0 means the attack succeeded there');
  });
});
