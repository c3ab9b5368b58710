import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { buildHtml } from '../../src/report/build-html.js';
import { runCli } from '../helpers/cli.js';
import { sampleLeaderboard, sampleRegression } from '../report/sample-report.js';
import { writeFixtureReport } from './fixture-report.js';
import { minimalReport } from '../report/minimal-report.js';
import { CIFAR100_NAMES, hundredClassReport } from '../report/many-classes.js';
import { sampleEntries } from '../report/sample-bench.js';
import { sampleCheck } from '../report/sample-check.js';
import { regressionTableFromCheck } from '../../src/report/regression-table.js';
import { sampleReport } from '../report/sample-report.js';
import { benchHtml } from '../../src/leaderboard/html.js';
import { apgd } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { FIXTURE_MODEL } from './fixture-report.js';
import { useTestBackend } from '../helpers/backend.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
/** Debian's chromium, headless, with everything that would phone home switched off. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The members of an <img> the checks use: this project's TypeScript has no DOM library. */
interface PageImage {
  src: string;
  naturalWidth: number;
  naturalHeight: number;
  complete: boolean;
  decode(): Promise<void>;
}
/** The page's Image constructor (the callbacks below run in the browser). */
declare const Image: new () => PageImage;

interface Visit {
  page: Page;
  /** Requests other than file: and data: (blocked, and a failure). */
  network: string[];
  consoleErrors: string[];
}

async function open(browser: Browser, file: string): Promise<Visit> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const visit: Visit = { page, network: [], consoleErrors: [] };
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (/^(file|data):/.test(url)) return route.continue();
    visit.network.push(url);
    return route.abort();
  });
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) visit.network.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') visit.consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => visit.consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return visit;
}

if (!existsSync(CHROMIUM)) {
  describe('the HTML report in headless Chromium', () => {
    // Skipped, not passed, where no Chromium is installed, so the report shows the page went untested; CI installs it and runs these.
    it.skip(`needs ${CHROMIUM}, which is absent: apt-get install chromium (.ci/run installs it)`, () => undefined);
  });
} else {
  describe('the HTML report in headless Chromium', () => {
    let browser: Browser;
    let fixture: { dir: string; file: string; report: Report };
    let html: string;

    beforeAll(async () => {
      // Chromium starts on the other core while this one evaluates the fixture report.
      const launching = chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      try {
        fixture = await writeFixtureReport();
        html = path.join(fixture.dir, 'report.html');
        const r = await runCli('report', fixture.file, '--out', html, '--quiet');
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        await mkdir(ARTIFACTS, { recursive: true });
      } finally {
        // Kept even when the set-up failed, so that afterAll closes it.
        browser = await launching;
      }
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('renders the curves, decodes every image, logs no error and requests nothing from the network', async () => {
      const { page, network, consoleErrors } = await open(browser, html);
      try {
        // Curves: one inline SVG with a line and a band per attack and the worst case.
        const chart = page.locator('#curves figure > svg');
        await expect(chart.count()).resolves.toBe(1);
        const lines = await chart.locator('path[aria-roledescription="line mark"]').evaluateAll((ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
        expect(lines.map((l) => /series: (.+)$/.exec(l)?.[1])).toEqual(['fgsm', '+ pgd', 'worst case']);
        await expect(chart.locator('path[aria-roledescription="area mark"]').count()).resolves.toBe(3);
        const box = await chart.boundingBox();
        expect(box!.width).toBeGreaterThan(500);
        expect(box!.height).toBeGreaterThan(250);

        // Image grid: eight examples × clean | perturbation | adversarial, all decoded at 28×28.
        const sizes = await page.locator('#examples img').evaluateAll((imgs) =>
          Promise.all((imgs as unknown as PageImage[]).map((img) => img.decode().then(() => [img.naturalWidth, img.naturalHeight, img.complete]))),
        );
        expect(sizes).toHaveLength(24);
        for (const s of sizes) expect(s).toEqual([28, 28, true]);
        expect(await page.locator('#examples .example').count()).toBe(8);
        // Rendered on screen at 112 px, not collapsed.
        const shown = await page.locator('#examples img').first().boundingBox();
        expect(shown!.width).toBe(112);
        // The PNG grid offered for download decodes too.
        const grid = await page.locator('a.download').evaluate((a) => {
          const img = new Image();
          img.src = (a as unknown as { href: string }).href;
          return img.decode().then(() => [img.naturalWidth, img.naturalHeight]);
        });
        expect(grid[0]).toBeGreaterThan(600);

        // Tables, sanity card, provenance.
        expect(await page.locator('#results tbody tr').count()).toBe(fixture.report.results.length + fixture.report.worstCase.length);
        expect(await page.locator('#sanity ul.checks li').count()).toBe(fixture.report.sanity!.length);
        await expect(page.locator('#provenance').innerText()).resolves.toContain(fixture.report.configHash);

        await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('renders the per-class, confusion, smallest-ε and convergence sections, with a chart each', async () => {
      const { page, network, consoleErrors } = await open(browser, html);
      try {
        const screens = process.env.ADVTEST_SCREENS ?? ARTIFACTS;
        await mkdir(screens, { recursive: true });
        for (const id of ['curves', 'per-class', 'confusion', 'fell-at', 'convergence', 'margins', 'traces']) {
          const section = page.locator(`section#${id}`);
          await expect(section.count()).resolves.toBe(1);
          // Each chart an inline SVG at (nearly) the card's full width, drawn with marks.
          const chart = section.locator('figure svg').first();
          const box = await chart.boundingBox();
          const card = await section.boundingBox();
          expect(box!.width).toBeGreaterThan(card!.width * 0.9);
          expect(await chart.locator('[aria-roledescription$="mark container"] > *').count()).toBeGreaterThan(0);
          await section.screenshot({ path: path.join(screens, `report-${id}.png`) });
        }
        // The curves name every series at its end; the worst case's markers are rings around the attacks' own.
        const labels = await page.locator('#curves svg text[aria-roledescription="text mark"]').allTextContents();
        expect(labels).toEqual(expect.arrayContaining(['fgsm', '+ pgd', 'worst case']));
        // Per class: one row per class, and the total row is the overall figure of the results table.
        expect(await page.locator('#per-class tbody tr').count()).toBe(10);
        const total = await page.locator('#per-class tfoot td').allInnerTexts();
        expect(total[1]).toBe(String(fixture.report.data.size));
        expect(total.at(-1)).toBe(`${(fixture.report.worstCase.at(-1)!.accuracy * 100).toFixed(1)}%`);
        // The confusion tables open on a click.
        const details = page.locator('#confusion details').first();
        await details.locator('summary').click();
        await expect(details.locator('table.confusion tbody tr').count()).resolves.toBe(10);
        expect(await page.locator('#fell-at').innerText()).toMatch(/Median [\d.]+, 95% interval/);
        // Margins: a clean and an adversarial histogram per cell, in two charts, and a row per cell.
        await expect(page.locator('#margins figure svg').count()).resolves.toBe(2);
        expect(await page.locator('#margins tbody tr').count()).toBe(fixture.report.results.length);
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('filters the image grid in the page by attack, ε, fate and class', async () => {
      const { page, network, consoleErrors } = await open(browser, html);
      try {
        const screens = process.env.ADVTEST_SCREENS ?? ARTIFACTS;
        const cards = page.locator('#examples .example');
        const visible = () => cards.evaluateAll((els) => els.filter((e) => !(e as unknown as { hidden: boolean }).hidden).map((e) => (e as unknown as { dataset: Record<string, string> }).dataset));
        const all = await visible();
        expect(all).toHaveLength(8);
        const form = page.locator('#examples form.grid-filter');
        await expect(form.locator('output').innerText()).resolves.toBe('8 of 8 shown');
        // One class: exactly the cards of that class stay.
        const cls = all[0]!.class!;
        await form.locator('select[name="class"]').selectOption(cls);
        const ofClass = await visible();
        expect(ofClass.length).toBe(all.filter((d) => d.class === cls).length);
        expect(ofClass.every((d) => d.class === cls)).toBe(true);
        await expect(form.locator('output').innerText()).resolves.toBe(`${ofClass.length} of 8 shown`);
        // Then an attack and ε no card of that class has: none left, and the page says so.
        await form.locator('select[name="class"]').selectOption('');
        const eps = all.at(-1)!.eps!;
        await form.locator('select[name="eps"]').selectOption(eps);
        expect((await visible()).map((d) => d.eps)).toEqual(all.filter((d) => d.eps === eps).map((d) => d.eps));
        await form.locator('select[name="fate"]').selectOption('robust');
        const robust = all.filter((d) => d.eps === eps && d.fate === 'robust');
        expect(await visible()).toEqual(robust);
        await expect(page.locator('#examples .grid-empty').isVisible()).resolves.toBe(robust.length === 0);
        await form.locator('select[name="fate"]').selectOption('fooled');
        await page.locator('#examples').screenshot({ path: path.join(screens, 'report-examples-filtered.png') });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('draws the distributions of a minimal attack beside the curves', async () => {
      const file = path.join(fixture.dir, 'minimal.html');
      await writeFile(file, await buildHtml({ report: await minimalReport() }));
      const { page, network, consoleErrors } = await open(browser, file);
      try {
        const screens = process.env.ADVTEST_SCREENS ?? ARTIFACTS;
        const section = page.locator('section#minimal');
        const chart = section.locator('figure svg');
        const box = await chart.boundingBox();
        expect(box!.width).toBeGreaterThan((await section.boundingBox())!.width * 0.9);
        // A histogram and a CDF, with rings at the three evaluated ε.
        expect(await chart.locator('path[aria-roledescription="line mark"]').count()).toBe(1);
        expect(await chart.locator('[aria-roledescription="point"]').count()).toBe(3);
        await section.screenshot({ path: path.join(screens, 'report-minimal.png') });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('shows two runs on one comparison page', async () => {
      const other = path.join(fixture.dir, 'same.json');
      await writeFile(other, JSON.stringify(fixture.report));
      const out = path.join(fixture.dir, 'compare.html');
      const r = await runCli('compare', fixture.file, other, '--html', out, '--quiet');
      expect(r.code).toBe(0);
      const { page, network, consoleErrors } = await open(browser, out);
      try {
        const screens = process.env.ADVTEST_SCREENS ?? ARTIFACTS;
        await mkdir(screens, { recursive: true });
        const lines = await page.locator('#curves svg path[aria-roledescription="line mark"]').count();
        expect(lines).toBe(6);
        expect(await page.locator('#lost-gained tbody tr').count()).toBe(fixture.report.results.length + fixture.report.worstCase.length);
        expect(await page.locator('#sanity ul.checks').count()).toBe(2);
        await page.screenshot({ path: path.join(screens, 'compare.png'), fullPage: true });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    /** The per-class table: inside its card, every column readable (none squeezed below its text). */
    async function checkPerClassTable(page: Page, classes: number): Promise<void> {
      const section = page.locator('section#per-class');
      const card = (await section.boundingBox())!;
      const main = (await page.locator('main').boundingBox())!;
      // The card never grows past the page's column; a wide table scrolls inside it.
      expect(card.x + card.width).toBeLessThanOrEqual(main.x + main.width + 0.5);
      expect(await section.locator('tbody tr').count()).toBe(classes);
      // Each cell's text fits its cell: nothing clipped or overlapping.
      const clipped = await section.locator('table.per-class td, table.per-class th').evaluateAll((cells) =>
        cells.filter((c) => (c as unknown as { scrollWidth: number; clientWidth: number }).scrollWidth > (c as unknown as { clientWidth: number }).clientWidth + 1).length,
      );
      expect(clipped).toBe(0);
    }

    it('keeps the per-class table and charts inside their cards, at 10 classes and at 100', async () => {
      const screens = process.env.ADVTEST_SCREENS ?? ARTIFACTS;
      await mkdir(screens, { recursive: true });
      const ten = await open(browser, html);
      try {
        await checkPerClassTable(ten.page, 10);
        await ten.page.locator('section#per-class').screenshot({ path: path.join(screens, 'report-per-class-10.png') });
        expect(ten.consoleErrors).toEqual([]);
        expect(ten.network).toEqual([]);
      } finally {
        await ten.page.close();
      }
      const file = path.join(fixture.dir, 'hundred.html');
      await writeFile(file, await buildHtml({ report: hundredClassReport(fixture.report) }, { classNames: CIFAR100_NAMES, notes: ['no images'] }));
      const hundred = await open(browser, file);
      try {
        const { page } = hundred;
        // 60 examples over 100 classes: a row per class that has examples.
        await checkPerClassTable(page, new Set(hundredClassReport(fixture.report).examples.labels).size);
        // The chart fits its card too, and names the classes.
        const chart = page.locator('section#per-class figure svg');
        const card = (await page.locator('section#per-class').boundingBox())!;
        const box = (await chart.boundingBox())!;
        expect(box.x + box.width).toBeLessThanOrEqual(card.x + card.width + 0.5);
        await page.locator('section#per-class').screenshot({ path: path.join(screens, 'report-per-class-100.png') });
        await page.locator('section#confusion').screenshot({ path: path.join(screens, 'report-confusion-100.png') });
        expect(hundred.consoleErrors).toEqual([]);
        expect(hundred.network).toEqual([]);
      } finally {
        await hundred.page.close();
      }
    });

    it('shows every run of an attack with restarts in the convergence section', async () => {
      await useTestBackend();
      const model = await loadModel(FIXTURE_MODEL);
      let report: Report;
      try {
        report = await evaluate(model, balancedSubset(loadMnist('test'), 20), [apgd({ steps: 6, restarts: 3 })], [0.06, 0.1], { seed: 5, probes: false });
      } finally {
        model.dispose?.();
      }
      const file = path.join(fixture.dir, 'restarts.html');
      await writeFile(file, await buildHtml({ report }, { notes: ['no images'] }));
      const { page, network, consoleErrors } = await open(browser, file);
      try {
        const screens = process.env.ADVTEST_SCREENS ?? ARTIFACTS;
        const section = page.locator('section#convergence');
        const runs = report.convergence!.reduce((a, t) => a + 1 + (t.restarts ?? []).length, 0);
        expect(runs).toBeGreaterThan(report.convergence!.length);
        await expect(section.locator('table.runs tbody tr').count()).resolves.toBe(runs);
        // One line per run, ε and panel (robust fraction and loss).
        await expect(section.locator('figure svg path[aria-roledescription="line mark"]').count()).resolves.toBe(2 * runs);
        const box = (await section.locator('figure svg').boundingBox())!;
        expect(box.width).toBeGreaterThan((await section.boundingBox())!.width * 0.9);
        await section.screenshot({ path: path.join(screens, 'report-convergence-restarts.png') });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('shows the bench page: curves over every ε, a leaderboard per ε, every entry\'s provenance', async () => {
      const file = path.join(fixture.dir, 'bench.html');
      await writeFile(file, await benchHtml(sampleEntries(), 'bench.json'));
      const { page, network, consoleErrors } = await open(browser, file);
      try {
        const screens = process.env.ADVTEST_SCREENS ?? ARTIFACTS;
        const chart = page.locator('#curves figure svg');
        const lines = await chart.locator('path[aria-roledescription="line mark"]').evaluateAll((ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
        expect(lines.map((l) => /series: (.+)$/.exec(l)?.[1])).toEqual(['standard', 'robust']);
        // Three points per entry: ε = 0 (clean), 0.1 and 0.3.
        await expect(chart.locator('path[aria-roledescription="point"]').count()).resolves.toBe(6);
        expect((await chart.boundingBox())!.width).toBeGreaterThan((await page.locator('#curves').boundingBox())!.width * 0.9);
        await expect(page.locator('#leaderboard h2').innerText()).resolves.toBe('Leaderboard at ε = 0.3 (linf)');
        await expect(page.locator('#leaderboard-2 h2').innerText()).resolves.toBe('Leaderboard at ε = 0.1 (linf)');
        // Each board sorts on its own.
        await page.locator('#leaderboard-2 th', { hasText: 'model' }).locator('button').click();
        expect(await page.locator('#leaderboard-2 tbody td:nth-child(2)').allInnerTexts()).toEqual(['standard', 'robust']);
        expect(await page.locator('#leaderboard tbody td:nth-child(2)').allInnerTexts()).toEqual(['robust', 'standard']);
        await expect(page.locator('#provenance tbody tr').count()).resolves.toBe(2);
        await expect(page.locator('#provenance').innerText()).resolves.toContain('advtest bench --config bench.json --only robust');
        // Nothing wider than the page.
        const overflow = await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');
        expect(overflow).toBe(false);
        await page.screenshot({ path: path.join(screens, 'bench.png'), fullPage: true });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('shows the check page: both runs\' curves on one chart, their figures, both runs\' sanity checks', async () => {
      const file = path.join(fixture.dir, 'check.html');
      await writeFile(file, await buildHtml({ regression: regressionTableFromCheck(sampleCheck()), report: sampleReport() }));
      const { page, network, consoleErrors } = await open(browser, file);
      try {
        const chart = page.locator('#curves figure svg');
        const lines = await chart.locator('path[aria-roledescription="line mark"]').evaluateAll((ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
        const series = lines.map((l) => /line: (.+?)(;|$)/.exec(l)?.[1] ?? l);
        expect(series.filter((l) => l.startsWith('before · ')).length).toBe(3);
        expect(series.filter((l) => l.startsWith('after · ')).length).toBe(3);
        await expect(page.locator('#regression thead').innerText()).resolves.toMatch(/before[\s\S]*after/);
        await expect(page.locator('#sanity h3').count()).resolves.toBe(2);
        await expect(page.locator('#sanity').innerText()).resolves.toMatch(/before[\s\S]*after/);
        // Per-class changes: the worst case per class, red where the class dropped (0 and 3 at ε = 0.3).
        const perClass = page.locator('#class-deltas');
        await expect(perClass.locator('h2').innerText()).resolves.toBe('Per-class changes (worst case)');
        const headline = perClass.locator('table').first();
        expect(await headline.locator('tbody tr').count()).toBe(6);
        const lost = headline.locator('td.lost');
        expect(await lost.allInnerTexts()).toEqual(['−100.0', '−100.0']);
        await expect(lost.first().evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(td).color)).resolves.toBe('rgb(179, 38, 30)');
        // Sorting by the change at ε = 0.3 (a header of the second row) sorts by that column: the dropped classes last.
        await headline.locator('thead tr').nth(1).locator('th[data-sort] button').nth(1).click();
        expect(await headline.locator('tbody td:first-child').allInnerTexts()).toEqual(['1', '2', '4', '5', '0', '3']);
        // Each attack's table opens from its summary.
        await perClass.locator('summary').click();
        await expect(perClass.locator('details table').nth(1).isVisible()).resolves.toBe(true);
        const sectionBox = (await perClass.boundingBox())!;
        const mainBox = (await page.locator('main').boundingBox())!;
        expect(sectionBox.x + sectionBox.width).toBeLessThanOrEqual(mainBox.x + mainBox.width + 1);
        await perClass.screenshot({ path: path.join(ARTIFACTS, 'check-class-deltas.png') });
        const overflow = await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');
        expect(overflow).toBe(false);
        await page.screenshot({ path: path.join(ARTIFACTS, 'check.png'), fullPage: true });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('sorts the leaderboard and shows the regression table', async () => {
      const file = path.join(fixture.dir, 'leaderboard.html');
      await writeFile(file, await buildHtml({ title: 'Benchmark', leaderboard: sampleLeaderboard(), regression: sampleRegression() }));
      const { page, network, consoleErrors } = await open(browser, file);
      try {
        const names = () => page.locator('#leaderboard tbody td:nth-child(2)').allInnerTexts();
        expect(await names()).toEqual(['adv|trained', 'smoothed', 'standard']);
        const clean = page.locator('#leaderboard th', { hasText: 'clean' }).locator('button');
        await clean.click();
        expect(await names()).toEqual(['standard', 'adv|trained', 'smoothed']);
        await expect(page.locator('#leaderboard th[aria-sort]').getAttribute('aria-sort')).resolves.toBe('descending');
        await clean.click();
        expect(await names()).toEqual(['smoothed', 'adv|trained', 'standard']);
        await page.locator('#leaderboard th', { hasText: 'model' }).locator('button').click();
        expect(await names()).toEqual(['standard', 'smoothed', 'adv|trained']);
        await expect(page.locator('#regression tr.regression td.verdict').innerText()).resolves.toBe('REGRESSION');
        await page.screenshot({ path: path.join(ARTIFACTS, 'report-leaderboard.png'), fullPage: true });
        expect(consoleErrors).toEqual([]);
        expect(network).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
}
