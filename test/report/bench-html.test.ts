/**
 * Issue 15 item 7, the bench page: every entry's worst-case curve over the whole ε grid, a
 * leaderboard at every ε (not only the largest), and each entry's provenance.
 */
import { describe, expect, it } from 'vitest';
import { benchHtml } from '../../src/leaderboard/html.js';
import { benchCurvePoints, dataScalingRuns, trainingClock, trainingCurvePoints } from '../../src/report/bench-html.js';
import { sampleEntries } from './sample-bench.js';

describe('advtest bench --html', () => {
  it('plots each entry over every ε, from its clean accuracy at ε = 0', () => {
    const entries = sampleEntries();
    const points = benchCurvePoints(entries.map((e) => ({ name: e.name, report: e.report })));
    expect(points.map((p) => [p.series, p.eps, p.accuracy])).toEqual([
      ['standard', 0, 5 / 6],
      ['standard', 0.1, 0.5],
      ['standard', 0.3, 1 / 6],
      ['robust', 0, 5 / 6],
      ['robust', 0.1, 0.833333],
      ['robust', 0.3, 0.666667],
    ].map(([s, e, a]) => [s, e, expect.closeTo(a as number, 5)]));
  });

  it('has the curves, a leaderboard per ε (largest first) and a provenance row per entry', async () => {
    const html = await benchHtml(sampleEntries(), 'fixtures/bench/bench.json');
    const order = ['curves', 'leaderboard', 'leaderboard-2', 'provenance'].map((id) => html.indexOf(`<section id="${id}">`));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toMatch(/<section id="curves"><h2>Worst-case robustness curves<\/h2><figure class="chart"><svg/);
    expect(html).toContain('<h2>Leaderboard at ε = 0.3 (linf)</h2>');
    expect(html).toContain('<h2>Leaderboard at ε = 0.1 (linf)</h2>');
    // The ε = 0.1 board ranks by the worst case at 0.1: robust (83.3%) above standard (50.0%).
    const small = html.slice(html.indexOf('<section id="leaderboard-2">'), html.indexOf('<section id="provenance">'));
    const names = [...small.matchAll(/<tr><td data-value="\d+">\d+<\/td><td class="text">([^<]+)<\/td>/g)].map((m) => m[1]);
    expect(names).toEqual(['robust', 'standard']);
    expect(small).toContain('<strong>83.3%</strong>');
    expect(small).toContain('<strong>50.0%</strong>');
    // Provenance: each entry's own command line, version, time and hashes.
    const prov = html.slice(html.indexOf('<section id="provenance">'));
    const rows = [...prov.matchAll(/<tr><td class="text"><strong>([^<]+)<\/strong><\/td>(.*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).toEqual(['standard', 'robust']);
    expect(rows[0]![2]).toContain('<code>advtest bench --config bench.json --only standard</code>');
    expect(rows[0]![2]).toContain('/work · linux x64');
    expect(rows[0]![2]).toContain('advtest 0.1.0');
    expect(rows[0]![2]).toContain('training 60 s');
    expect(rows[1]![2]).toContain('<code>advtest bench --config bench.json --only robust</code>');
    expect(rows[1]![2]).toContain('advtest 0.2.0');
    expect(rows[1]![2]).toContain('2025-02-03 04:05:06Z');
    expect(rows[1]![2]).toContain('entry robust-hash-');
    expect(prov).toContain('Benchmark config <code>fixtures/bench/bench.json</code>');
    // Nothing that would load from the network.
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it("draws each trained entry's held-out robustness against training minutes, and says which monitor", async () => {
    const [standard, robust] = sampleEntries();
    const monitor = { examples: 200, attack: 'pgd', eps: 0.3 };
    const curve = (robusts: number[]) => ({ ...monitor, history: robusts.map((r, i) => ({ epoch: i + 1, clean: 0.98, robust: r, n: 200, seconds: 90 * (i + 1) })) });
    const entries = [{ ...standard!, trainingCurve: curve([0.1, 0.05]) }, { ...robust!, trainingCurve: curve([0.4, 0.7, 0.8]) }];
    const points = trainingCurvePoints(entries);
    expect(points.map((p) => [p.series, p.eps, p.accuracy])).toEqual([
      ['standard', 1.5, 0.1],
      ['standard', 3, 0.05],
      ['robust', 1.5, 0.4],
      ['robust', 3, 0.7],
      ['robust', 4.5, 0.8],
    ]);
    // 160 of 200: Wilson's 95% interval, worked out by hand, is [0.7391, 0.8495].
    expect(points[4]!.lo).toBeCloseTo(0.7391, 4);
    expect(points[4]!.hi).toBeCloseTo(0.8495, 4);
    const html = await benchHtml(entries, 'fixtures/bench/bench.json');
    const order = ['curves', 'training', 'leaderboard'].map((id) => html.indexOf(`<section id="${id}">`));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const section = html.slice(order[1], order[2]);
    expect(section).toMatch(/<h2>Robustness during training<\/h2><figure class="chart"><svg/);
    expect(section).toContain('pgd at ε = 0.3 on 200 digits held out of the training split');
    expect(section).toContain('training time (minutes)');
    // Without any curve (entries trained without a monitor) the section is left out.
    expect(await benchHtml(sampleEntries(), 'b.json')).not.toContain('<section id="training">');
  });

  it('puts CPU time on the axis when every epoch recorded it (a paused or loaded process inflates wall time), else wall time', async () => {
    const [standard, robust] = sampleEntries();
    const monitor = { examples: 200, attack: 'pgd', eps: 0.3 };
    // The second epoch's wall time includes an hour the process was stopped; its CPU time does not.
    const timed = { ...monitor, history: [{ epoch: 1, clean: 0.98, robust: 0.4, n: 200, seconds: 120, cpuSeconds: 180 }, { epoch: 2, clean: 0.98, robust: 0.6, n: 200, seconds: 3840, cpuSeconds: 360 }] };
    const both = [{ ...standard!, trainingCurve: timed }, { ...robust!, trainingCurve: timed }];
    expect(trainingClock(both)).toBe('cpuSeconds');
    expect(trainingCurvePoints(both).map((p) => p.eps)).toEqual([3, 6, 3, 6]);
    const section = (html: string) => html.slice(html.indexOf('<section id="training">'), html.indexOf('<section id="leaderboard">'));
    const cpu = section(await benchHtml(both, 'b.json'));
    expect(cpu).toContain('training CPU time (minutes, all threads)');
    expect(cpu).toContain("the process's CPU time of training so far");
    // One entry without CPU times (a model saved before they were recorded): wall time for all, one axis.
    const { cpuSeconds: _c, ...older } = timed.history[0]!;
    const mixed = [both[0]!, { ...robust!, trainingCurve: { ...monitor, history: [older] } }];
    expect(trainingClock(mixed)).toBe('seconds');
    expect(trainingCurvePoints(mixed).map((p) => p.eps)).toEqual([2, 64, 2]);
    expect(section(await benchHtml(mixed, 'b.json'))).toContain('the wall time of training so far');
  });

  it('draws clean and worst-case accuracy against the training examples when entries were trained on different numbers of them', async () => {
    const [standard, robust] = sampleEntries();
    // "robust" on 4,000 examples, "standard" on 1,000; the training digits' worst case of robust only.
    const trainWorst = robust!.report.worstCase.map((w) => (w.eps === 0.1 ? { ...w, correct: 6, accuracy: 1, interval: [0.609666, 1] as [number, number] } : { ...w, correct: 5, accuracy: 0.833333, interval: [0.436497, 0.969947] as [number, number] }));
    const sized = [{ ...robust!, trainingExamples: 4000, trainReport: { ...robust!.report, worstCase: trainWorst } }, { ...standard!, trainingExamples: 1000 }];
    const page = await benchHtml(sized, 'b.json');
    const runs = dataScalingRuns(sized.map((e) => ({ name: e.name, report: e.report, trainingExamples: e.trainingExamples, ...(e.trainReport ? { trainWorstCase: e.trainReport.worstCase } : {}) })))!;
    // Lines in the order clean, then each ε from the largest, then the training digits; points by examples.
    expect(runs.map((r) => [r.label, r.points.map((p) => [p.eps, p.accuracy])])).toEqual([
      ['clean, test digits', [[1000, expect.closeTo(5 / 6, 5)], [4000, expect.closeTo(5 / 6, 5)]]],
      ['ε 0.3, test digits', [[1000, expect.closeTo(1 / 6, 5)], [4000, expect.closeTo(4 / 6, 5)]]],
      ['ε 0.1, test digits', [[1000, 0.5], [4000, expect.closeTo(5 / 6, 5)]]],
      ['ε 0.3, training digits', [[4000, expect.closeTo(5 / 6, 5)]]],
      ['ε 0.1, training digits', [[4000, 1]]],
    ]);
    expect(runs[1]!.points[1]).toMatchObject({ lo: 0.299993, hi: 0.903229 });
    const order = ['curves', 'data', 'leaderboard'].map((id) => page.indexOf(`<section id="${id}">`));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const section = page.slice(order[1], order[2]);
    expect(section).toMatch(/<h2>Robustness against training examples<\/h2><figure class="chart"><svg/);
    expect(section).toContain('training examples (log scale)');
    // A log axis ticked at the sizes: with a third entry on 2,000, its tick is half-way between 1,000's and 4,000's.
    const three = await benchHtml([...sized, { ...standard!, name: 'middle', trainingExamples: 2000 }], 'b.json');
    const ticks = [...three.slice(three.indexOf('<section id="data">'), three.indexOf('<section id="leaderboard">')).matchAll(/transform="translate\(([\d.]+),16\)"[^>]*>([\d,]+)<\/text>/g)].map((m) => [m[2], Number(m[1])] as const);
    expect(ticks.map((t) => t[0])).toEqual(['1,000', '2,000', '4,000']);
    expect(ticks[1]![1]).toBeCloseTo((ticks[0]![1] + ticks[2]![1]) / 2, 6);
    // The training digits' line comes from the entry's trainReport; the board notes each entry's examples.
    expect(section).toContain('ε 0.3, training digits');
    expect(page).toContain('training examples: robust 4,000, standard 1,000.');
    // Two entries of one size (recipes differing in more than their examples) would make one line zigzag: no chart.
    expect(await benchHtml([...sized, { ...standard!, name: 'other', trainingExamples: 4000 }], 'b.json')).not.toContain('<section id="data">');
    // One size (or none) leaves the section out.
    expect(await benchHtml(sized.map((e) => ({ ...e, trainingExamples: 1000 })), 'b.json')).not.toContain('<section id="data">');
    expect(await benchHtml(sampleEntries(), 'b.json')).not.toContain('<section id="data">');
  });
});
