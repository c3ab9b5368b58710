import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report.js';
import { buildHtml } from '../../src/report/build-html.js';
import { runCli } from '../helpers/cli.js';
import { sampleLeaderboard, sampleRegression } from '../report/sample-report.js';
import { writeFixtureReport } from './fixture-report.js';

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
    it.skip(`needs ${CHROMIUM}, which is absent: apt-get install chromium (.ci/run installs it)`, () => undefined);
  });
} else {
  describe('the HTML report in headless Chromium', () => {
    let browser: Browser;
    let fixture: { dir: string; file: string; report: Report };
    let html: string;

    beforeAll(async () => {
      fixture = await writeFixtureReport();
      html = path.join(fixture.dir, 'report.html');
      const r = await runCli('report', fixture.file, '--out', html, '--quiet');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      await mkdir(ARTIFACTS, { recursive: true });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
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

    it('sorts the leaderboard and shows the regression table', async () => {
      const file = path.join(fixture.dir, 'leaderboard.html');
      await writeFile(file, await buildHtml({ title: 'Benchmark', leaderboard: sampleLeaderboard(), regression: sampleRegression() }));
      const { page, network, consoleErrors } = await open(browser, file);
      try {
        const names = () => page.locator('#leaderboard tbody td.text').allInnerTexts();
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
