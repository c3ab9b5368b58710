import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { buildBrowser } from '../../scripts/build-browser.js';
import { decodeImage } from '../../src/data/image-codec.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import type { Dataset } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';
import { startServe } from '../helpers/serve.js';

const CHROMIUM = '/usr/bin/chromium';
/** As test/e2e/report-browser.test.ts: headless, nothing that phones home. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots for the closing note, outside the repository. */
const SCREENS = process.env.ADVTEST_SCREENS ?? path.join(os.tmpdir(), 'advtest-screens');
const ROOT = path.resolve(import.meta.dirname, '../..');
const DIGITS = path.join(ROOT, 'fixtures/images');
const MODEL = path.join(ROOT, 'fixtures/models/mnist-cnn');
const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;
const ATTACKS = { fgsm: () => makeAttack('fgsm'), pgd: () => makeAttack('pgd', { steps: 10 }) };
/** One digit of the ten: backends may round a borderline example differently (the table shows every cell). */
const TOLERANCE = 0.1 + 1e-9;

declare const window: { advtestPlayground: { report(): Report | undefined } };
declare const document: { body: { dataset: Record<string, string | undefined> } };

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', undefined, { timeout: 180_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') throw new Error(`page in state ${state}: ${await page.locator('#status').innerText()}`);
}

/** The same evaluation in Node (wasm backend), on the same files, seed and attack configuration. */
async function nodeReports(grid: number[]): Promise<Record<string, Report>> {
  await useTestBackend();
  const model = await loadModel(MODEL);
  const names = (await readdir(DIGITS)).filter((n) => /label\d+\.png$/.test(n)).sort();
  const images = new Float32Array(names.length * 784);
  for (const [i, n] of names.entries()) images.set(await decodeImage(path.join(DIGITS, n), [28, 28, 1]), i * 784);
  const data: Dataset = { name: 'playground', split: 'all', shape: [28, 28, 1], numClasses: 10, classNames: [...Array(10).keys()].map(String), size: names.length, images, labels: Int32Array.from(names.map((n) => Number(/label(\d+)/.exec(n)![1]))), ids: names };
  const out: Record<string, Report> = {};
  for (const [name, make] of Object.entries(ATTACKS)) out[name] = await evaluate(model, data, [make()], grid, { seed: 0, probes: false, batchSize: names.length });
  model.dispose?.();
  return out;
}

if (!existsSync(CHROMIUM)) {
  describe('the playground in headless Chromium', () => {
    // Skipped, not passed, where no Chromium is installed, so the report shows the page went untested; CI installs it and runs these.
    it.skip(`needs ${CHROMIUM}, which is absent: apt-get install chromium (.ci/run installs it)`, () => undefined);
  });
} else {
  describe('the playground in headless Chromium', () => {
    let browser: Browser;
    let server: Awaited<ReturnType<typeof startServe>>;
    beforeAll(async () => {
      // Side by side: the server waits for the bundle it serves, chromium for nothing. Whatever
      // started is kept for afterAll to stop, even when the other failed.
      const [served, launched, made] = await Promise.allSettled([
        buildBrowser().then(() => startServe()),
        chromium.launch({ executablePath: CHROMIUM, args: ARGS }),
        mkdir(SCREENS, { recursive: true }),
      ]);
      if (served.status === 'fulfilled') server = served.value;
      if (launched.status === 'fulfilled') browser = launched.value;
      for (const r of [served, launched, made]) if (r.status === 'rejected') throw r.reason;
    });
    afterAll(async () => {
      await browser?.close();
      server?.child.kill('SIGINT');
      await server?.exit;
    });

    it('runs FGSM and PGD on webgl, wasm and cpu with Node’s accuracies, downloads a PNG within ε, stays on its origin, logs no error', async () => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 }, acceptDownloads: true });
      const origin = new URL(server.url).origin;
      const offOrigin: string[] = [];
      const consoleErrors: string[] = [];
      page.on('request', (r) => {
        const u = r.url();
        if (!u.startsWith(origin + '/') && !/^(blob|data):/.test(u)) offOrigin.push(u);
      });
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      try {
        const t0 = Date.now();
        const lap = (what: string) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        // Three ε instead of the page's seven: SwiftShader's webgl is slow, and CI has 2 cores.
        const grid = [0.1, 0.2, 0.3];
        // Node's reference computes on this process's core while the browser works on the other.
        const nodeReference = nodeReports(grid);
        nodeReference.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
        await page.goto(`${server.url}?backend=webgl&attack=pgd&grid=${grid.join(',')}`);
        await ready(page);
        lap('first load (webgl, pgd)');
        const table: { backend: string; attack: string; rows: { eps: number; accuracy: number; node: number }[] }[] = [];
        let node: Record<string, Report> | undefined;
        // A backend switch re-runs the selected attack, so each backend starts with the attack the
        // previous one ended on: six runs, not nine, and the report download below runs FGSM on cpu,
        // not PGD (cpu's PGD is the slowest run after webgl's).
        let order = ['pgd', 'fgsm'] as (keyof typeof ATTACKS)[];
        for (const backend of BACKENDS) {
          // selectOption fires 'change' even for the selected value, which would run the attack again.
          if ((await page.inputValue('#backend')) !== backend) {
            await page.selectOption('#backend', backend);
            await ready(page);
          }
          for (const attack of order) {
            if ((await page.inputValue('#attack')) !== attack) {
              await page.selectOption('#attack', attack);
              await ready(page);
            }
            lap(`${backend} ${attack}`);
            const report = (await page.evaluate(() => window.advtestPlayground.report()))!;
            expect(report.backend.name).toBe(backend);
            expect(report.config.epsilons).toEqual(grid);
            node ??= await nodeReference;
            lap('node');
            const reference = node[attack]!;
            // The same pixels: the browser's PNG decode and sharp's agree bit for bit.
            expect(report.data.fingerprint).toBe(reference.data.fingerprint);
            expect(report.config).toEqual(reference.config);
            expect(report.configHash).toBe(reference.configHash);
            expect(report.clean.accuracy).toBe(reference.clean.accuracy);
            const rows = report.results.map((r, i) => ({ eps: r.eps, accuracy: r.accuracy, node: reference.results[i]!.accuracy }));
            for (const r of rows) expect(Math.abs(r.accuracy - r.node), `${backend} ${attack} ε=${r.eps}`).toBeLessThanOrEqual(TOLERANCE);
            table.push({ backend, attack, rows });
            if (attack === 'pgd') await page.screenshot({ path: path.join(SCREENS, `playground-${backend}-pgd.png`), fullPage: true });
          }
          order = [...order].reverse();
        }
        expect(table.map((t) => `${t.backend} ${t.attack}`).sort()).toEqual(BACKENDS.flatMap((b) => Object.keys(ATTACKS).map((a) => `${b} ${a}`)).sort());
        console.log(JSON.stringify(table));

        // The PNG the page offers: 8-bit, each pixel within ε of the clean digit.
        const eps = Number(await page.inputValue('#eps'));
        const first = page.locator('.example').first();
        const name = (await first.locator('div').first().innerText()).split(' ')[0]!;
        const [download] = await Promise.all([page.waitForEvent('download'), first.locator('a.download-png').click()]);
        const dir = await mkdtemp(path.join(os.tmpdir(), 'advtest-png-'));
        const file = path.join(dir, download.suggestedFilename());
        await download.saveAs(file);
        const adv = await decodeImage(await readFile(file), [28, 28, 1]);
        const clean = await decodeImage(path.join(DIGITS, name), [28, 28, 1]);
        let maxDiff = 0;
        let changed = 0;
        for (let i = 0; i < adv.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(adv[i]! - clean[i]!));
          if (adv[i] !== clean[i]) changed++;
        }
        expect(maxDiff).toBeLessThanOrEqual(eps + 1e-6);
        expect(changed).toBeGreaterThan(0);

        // The report JSON download: the report format, on the page's backend, with the slider's ε.
        const [json] = await Promise.all([page.waitForEvent('download'), page.click('#download-report')]);
        const reportFile = path.join(dir, json.suggestedFilename());
        await json.saveAs(reportFile);
        const downloaded = JSON.parse(await readFile(reportFile, 'utf8')) as Report;
        expect(downloaded.format).toBe('advtest-report/1');
        expect(downloaded.backend.name).toBe('cpu');
        expect(downloaded.config.epsilons).toContain(eps);
        await ready(page);

        lap('downloads');
        expect(offOrigin).toEqual([]);
        expect(consoleErrors).toEqual([]);
      } finally {
        await page.close();
      }
    }, 400_000);
  });
}
