import { describe, expect, it } from 'vitest';
import { buildHtml } from '../../src/report/build-html.js';
import { renderHtml } from '../../src/report/html.js';
import { syntheticExample } from './example-images.js';
import { sampleLeaderboard, sampleRegression, sampleReport } from './sample-report.js';

/** Every URL the page could load or link to: src, href and CSS url(). */
function urls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"|url\(([^)]*)\)/g)].map((m) => m[1] ?? m[2] ?? '');
}

describe('renderHtml', () => {
  it('is one self-contained page whose policy forbids any request', () => {
    const html = renderHtml({ report: sampleReport() });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:;`);
    expect(html).not.toMatch(/<link|@import|<script src/);
    for (const url of urls(html)) expect(url).toMatch(/^(#|data:)/);
  });

  it('shows the sections in order: regression, leaderboard, curves, results, examples, sanity, provenance', () => {
    const html = renderHtml({ report: sampleReport(), leaderboard: sampleLeaderboard(), regression: sampleRegression() }, { curvesSvg: '<svg id="chart"></svg>', notes: ['no images'] });
    const order = ['regression', 'leaderboard', 'curves', 'results', 'examples', 'sanity', 'provenance'].map((id) => html.indexOf(`<section id="${id}">`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toContain('<svg id="chart"></svg>');
  });

  it('escapes everything that comes from the report', () => {
    const report = sampleReport();
    report.model.path = '<script>alert(1)</script>';
    report.sanity![1]!.message = 'a <b>bold</b> claim & more';
    const html = renderHtml({ report });
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a &lt;b&gt;bold&lt;/b&gt; claim &amp; more');
  });

  it('ranks the leaderboard by worst case and makes every column sortable by its value', () => {
    const html = renderHtml({ leaderboard: sampleLeaderboard() });
    const body = html.slice(html.indexOf('<section id="leaderboard">'));
    const names = [...body.matchAll(/<td class="text">([^<]+)<\/td>/g)].map((m) => m[1]);
    expect(names).toEqual(['adv|trained', 'smoothed', 'standard']);
    expect(body.match(/<th data-sort/g)).toHaveLength(7); // #, model, clean, fgsm, pgd, worst case, training
    expect(body).toContain('data-value="0.885"');
    expect(html).toContain("table.sortable th[data-sort]");
  });

  it('marks regressions in the regression table', () => {
    const html = renderHtml({ regression: sampleRegression() });
    expect(html).toContain('<span class="badge fail">FAIL</span>');
    expect(html).toMatch(/<tr class="regression">.*fgsm \(linf\).*REGRESSION/);
    expect(html).toContain('−8.0 pts');
    expect(html).toContain('&lt;0.0001');
  });
});

describe('buildHtml', () => {
  it('embeds the curves as inline SVG and the image grid as PNG data URIs', async () => {
    const examples = [syntheticExample([28, 28, 1], 0), syntheticExample([28, 28, 1], 1, { fellAt: null, fooled: false, adversarialPrediction: 1, recordedPrediction: 1 }), syntheticExample([28, 28, 1], 2, { reproduced: false, recordedPrediction: 0 })];
    const html = await buildHtml({ report: sampleReport() }, { examples, classNames: ['zero', 'one', 'two'] });
    expect(html).toMatch(/<section id="curves"><h2>Robustness curves<\/h2>\s*<figure><svg/);
    const images = [...html.matchAll(/<img src="(data:image\/png;base64,[A-Za-z0-9+/=]+)"/g)];
    expect(images).toHaveLength(9);
    expect(html).toMatch(/<a class="download" download="advtest-grid.png" href="data:image\/png;base64,/);
    expect(html).toContain('synthetic/0 · label 1 one');
    expect(html).toContain('fooled at ε=0.1');
    expect(html).toContain('held at ε=0.1');
    expect(html).toContain('regenerated image predicted 2 two; the report recorded 0 zero');
    expect(html).toContain('Examples that fooled the model, and some that held');
    for (const url of urls(html)) expect(url).toMatch(/^(#|data:)/);
  });

  it('tags each example card for the grid filter and offers only the values the cards have', async () => {
    const examples = [syntheticExample([28, 28, 1], 0), syntheticExample([28, 28, 1], 1, { fellAt: null, fooled: false, attack: 'pgd', eps: 0.3, label: 2, cleanPrediction: 2 })];
    const html = await buildHtml({ report: sampleReport() }, { examples, classNames: ['zero', 'one', 'two'] });
    expect(html).toContain('<article class="example" data-attack="fgsm" data-eps="0.1" data-fate="fooled" data-class="1">');
    expect(html).toContain('<article class="example" data-attack="pgd" data-eps="0.3" data-fate="robust" data-class="2">');
    const form = /<form class="grid-filter".*?<\/form>/.exec(html)![0];
    const options = (name: string) => [...new RegExp(`<select name="${name}">(.*?)</select>`).exec(form)![1]!.matchAll(/<option value="([^"]*)">([^<]*)</g)].map((m) => `${m[1]}=${m[2]}`);
    expect(options('attack')).toEqual(['=all', 'fgsm=fgsm', 'pgd=pgd']);
    expect(options('eps')).toEqual(['=all', '0.1=0.1', '0.3=0.3']);
    expect(options('fate')).toEqual(['=all', 'fooled=fooled', 'robust=robust (held)']);
    expect(options('class')).toEqual(['=all', '1=1 one', '2=2 two']);
    // One card: nothing to filter.
    const single = await buildHtml({ report: sampleReport() }, { examples: examples.slice(0, 1) });
    expect(single).not.toContain('<form class="grid-filter"');
  });

  it('says why there are no images', async () => {
    const html = await buildHtml({ report: sampleReport() }, { notes: ['Images left out (--no-images).'] });
    expect(html).toContain('<p class="note">Images left out (--no-images).</p>');
    expect(html).not.toContain('<img');
  });
});
