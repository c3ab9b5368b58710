import { describe, expect, it } from 'vitest';
import { curvePoints, curveSpec, renderCurvesSvg } from '../../src/report/curve-chart.js';
import { sampleReport } from './sample-report.js';

describe('curve chart', () => {
  it('plots each attack and the worst case from ε = 0 (the clean accuracy), with interval bounds', () => {
    const points = curvePoints(sampleReport());
    expect(points.filter((p) => p.series === 'fgsm')).toEqual([
      { series: 'fgsm', eps: 0, accuracy: 0.833333, lo: 0.436497, hi: 0.969947 },
      { series: 'fgsm', eps: 0.1, accuracy: 0.666667, lo: 0.299993, hi: 0.903229 },
      { series: 'fgsm', eps: 0.3, accuracy: 0.5, lo: 0.187616, hi: 0.812384 },
    ]);
    expect([...new Set(points.map((p) => p.series))]).toEqual(['fgsm', 'pgd', 'worst case']);
    expect(points.filter((p) => p.series === 'worst case').map((p) => p.accuracy)).toEqual([0.833333, 0.5, 0.166667]);
  });

  it('names the later attacks of a sequential suite as cumulative and skips the worst case for one attack', () => {
    const report = sampleReport();
    report.config.mode = 'sequential';
    expect(new Set(curvePoints(report).map((p) => p.series))).toEqual(new Set(['fgsm', '+ pgd', 'worst case']));
    report.config.attacks = report.config.attacks.slice(0, 1);
    report.results = report.results.slice(0, 2);
    expect(new Set(curvePoints(report).map((p) => p.series))).toEqual(new Set(['fgsm']));
  });

  it('labels the ε axis with the norm and draws the worst case dashed', () => {
    const spec = JSON.stringify(curveSpec(sampleReport()));
    expect(spec).toContain('ε (L∞)');
    expect(spec).toContain('[6,3]');
  });

  it('renders an SVG with a band and a line per series, in Node', async () => {
    const svg = await renderCurvesSvg(sampleReport());
    expect(svg.startsWith('<svg')).toBe(true);
    const marks = (kind: string) => svg.match(new RegExp(`<path [^>]*aria-roledescription="${kind} mark"`, 'g')) ?? [];
    expect(marks('line')).toHaveLength(3);
    expect(marks('area')).toHaveLength(3);
    expect(marks('line').map((m) => /series: ([^"]+)"/.exec(m)?.[1])).toEqual(['fgsm', 'pgd', 'worst case']);
    expect(svg).toContain('worst case');
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });
});
