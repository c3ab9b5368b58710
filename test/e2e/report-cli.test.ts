import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { chooseExamples } from '../../src/report/choose-examples.js';
import { gridLayout } from '../../src/report/grid-png.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURE_MODEL, writeFixtureReport } from './fixture-report.js';

const dataUris = (html: string) => html.match(/<img src="data:image\/png;base64,/g)?.length ?? 0;

describe('advtest report and advtest grid', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    ({ dir, file } = await writeFixtureReport());
  });

  it('writes the HTML report beside the result by default, with curves and 8 examples', async () => {
    const r = await runCli('report', file, '--quiet');
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const html = await readFile(path.join(dir, 'result.html'), 'utf8');
    expect(html).toContain('<section id="curves">');
    expect(dataUris(html)).toBe(24);
  });

  it('prints Markdown tables with --md, and writes no HTML unless --out is given', async () => {
    const before = await readdir(dir);
    const r = await runCli('report', file, '--md', '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^### Robustness of .*mnist-cnn\n/);
    expect(r.stdout).toContain('| attack       |    ε |    accuracy [95% CI] |');
    expect(r.stdout).toContain('**Worst case over attacks**');
    expect(await readdir(dir)).toEqual(before);
  });

  it('makes the report without images from the JSON alone with --no-images', async () => {
    const report = JSON.parse(await readFile(file, 'utf8')) as Report;
    const moved = path.join(dir, 'moved.json');
    await writeFile(moved, JSON.stringify({ ...report, model: { ...report.model, path: 'gone/model' } }));
    const out = path.join(dir, 'no-images.html');
    const r = await runCli('report', moved, '--no-images', '--out', out, '--quiet');
    expect(r.code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(dataUris(html)).toBe(0);
    expect(html).toContain('Images left out (--no-images).');

    // Without --no-images the missing model is a usage error with a way out; --model is one.
    const missing = await runCli('report', moved, '--out', out, '--quiet');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/model folder gone\/model has no model.json.*pass --model DIR, or --no-images/);
    expect((await runCli('report', moved, '--model', FIXTURE_MODEL, '--out', out, '--quiet')).code).toBe(0);
    expect(dataUris(await readFile(out, 'utf8'))).toBe(24);
  });

  it('refuses a file that is not a report', async () => {
    const other = path.join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ format: 'advtest-check/1' }));
    const r = await runCli('report', other);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not an advtest report \(format "advtest-check\/1"/);
  });

  it('chooses the grid by attack, ε, fate and class, and refuses a value the report lacks', async () => {
    const report = JSON.parse(await readFile(file, 'utf8')) as Report;
    const out = path.join(dir, 'filtered.html');
    const r = await runCli('report', file, '--out', out, '--fooled', '--attack', 'pgd', '--classes', '3,7', '--quiet');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const page = await readFile(out, 'utf8');
    const cards = [...page.matchAll(/<article class="example" data-attack="([^"]+)" data-eps="([^"]+)" data-fate="([^"]+)" data-class="([^"]+)">/g)].map((m) => [m[1], Number(m[2]), m[3], Number(m[4])]);
    const expected = chooseExamples(report, 8, { fate: 'fooled', attack: 'pgd', classes: [3, 7] }).map((c) => [c.attack, c.eps, 'fooled', c.label]);
    expect(expected.length).toBeGreaterThan(0);
    expect(cards).toEqual(expected);
    expect(page).toContain('Grid filter: fooled, pgd, classes 3, 7');

    const bad = [
      [['--attack', 'cw'], '--attack "cw" is not an attack of this run: choose one of fgsm, pgd'],
      [['--eps', '0.15'], '--eps "0.15" is not an ε of this run: choose one of 0.05, 0.1, 0.2, 0.3'],
      [['--classes', '3,10'], '--classes: "10" is not a class of this model: choose among 0–9'],
      [['--fooled', '--robust'], '--fooled and --robust exclude each other'],
    ] as const;
    for (const [args, message] of bad) {
      const refused = await runCli('report', file, '--out', path.join(dir, 'refused.html'), ...args);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(message);
    }
    const grid = await runCli('grid', file, '--out', path.join(dir, 'refused.png'), '--eps', '1/3');
    expect(grid.code).toBe(2);
    expect(grid.stderr).toContain('--eps "1/3" is not an ε of this run');
    expect((await readdir(dir)).filter((f) => f.startsWith('refused'))).toEqual([]);
  });

  it('draws the PNG grid with the requested layout', async () => {
    const out = path.join(dir, 'grid.png');
    const r = await runCli('grid', file, '--out', out, '--per-row', '4', '--examples', '6', '--quiet');
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const meta = await sharp(out).metadata();
    const layout = gridLayout(6, [28, 28, 1], { perRow: 4 });
    expect([meta.format, meta.width, meta.height]).toEqual(['png', layout.width, layout.height]);
  });
});

describe('advtest eval --md and --html', () => {
  it('prints Markdown instead of the terminal table and writes the HTML report', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-eval-html-'));
    const html = path.join(dir, 'eval.html');
    const r = await runCli('eval', '--model', FIXTURE_MODEL, '--limit', '20', '--eps', '0.1,0.3', '--md', '--html', html, '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^### Robustness of /);
    expect(r.stdout).toContain('| fgsm (linf) | 0.1 |');
    expect(r.stdout).not.toContain('┌');
    const page = await readFile(html, 'utf8');
    expect(page).toContain('<section id="curves">');
    expect(dataUris(page)).toBeGreaterThan(0);
  });

  it('checks the grid options before evaluating, and wants --html for them', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-eval-grid-'));
    const bad = await runCli('eval', '--model', FIXTURE_MODEL, '--limit', '20', '--eps', '0.1', '--html', path.join(dir, 'e.html'), '--grid-eps', '0.2', '--quiet');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--grid-eps "0.2" is not an ε of this run: choose one of 0.1');
    const trace = await runCli('eval', '--model', FIXTURE_MODEL, '--limit', '20', '--trace', '1,first', '--quiet');
    expect(trace.code).toBe(2);
    expect(trace.stderr).toContain('--trace: "first" is not a position in the evaluated set');
    const noHtml = await runCli('eval', '--model', FIXTURE_MODEL, '--limit', '20', '--grid-robust', '--quiet');
    expect(noHtml.code).toBe(2);
    expect(noHtml.stderr).toMatch(/choose the images of the HTML report: add --html FILE/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses --md with a bare --json (both on stdout)', async () => {
    const r = await runCli('eval', '--model', FIXTURE_MODEL, '--md', '--json', '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--md and a bare --json/);
  });
});
