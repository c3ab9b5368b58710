import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBenchConfig } from '../../src/leaderboard/config.js';
import { certifiedColumn } from '../../src/leaderboard/boards.js';
import type { EntryResult } from '../../src/leaderboard/run.js';
import { ABSTAIN } from '../../src/certify/procedures.js';
import type { CertifyReport } from '../../src/certify/report.js';
import { largestCertifiableRadius } from '../../src/certify/statistics.js';
import { packageRoot } from '../../src/package-info.js';
import type { Leaderboard } from '../../src/report/leaderboard.js';
import { runCli } from '../helpers/cli.js';

/** Issue 16: certified accuracy of every bench entry, as leaderboard columns. Tiny on purpose. */
const CERTIFY = { sigma: 0.25, n0: 10, n: 100, alpha: 0.01, radii: [0, 0.25], limit: 10 };
const CONFIG = {
  data: 'mnist',
  train: { arch: 'mlp', epochs: 1, batchSize: 64, seed: 0, holdout: 0 },
  eval: { attack: 'fgsm', eps: [0.1], limit: 20, seed: 0 },
  certify: CERTIFY,
  entries: [{ name: 'standard' }, { name: 'gaussian', defense: 'gaussian=0.25' }],
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setupDir(config: unknown): Promise<{ dir: string; file: string; out: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'advtest-bench-certify-'));
  dirs.push(dir);
  const file = path.join(dir, 'bench.json');
  await writeFile(file, JSON.stringify(config));
  return { dir, file, out: path.join(dir, 'results') };
}

const readEntry = async (out: string, name: string) => JSON.parse(await readFile(path.join(out, 'entries', `${name}.json`), 'utf8')) as EntryResult;

describe('advtest bench with a certify section', () => {
  it('certifies each entry after its evaluation, shows certified accuracy per radius as columns, and resumes the evaluation and the certification separately', async () => {
    const { dir, file, out } = await setupDir(CONFIG);
    const html = path.join(dir, 'board.html');
    const first = await runCli('bench', '--config', file, '--out', out, '--workers', '1', '--html', html);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/gaussian: certifying 10 examples \(randomized smoothing, σ 0\.25, n0 10, n 100, α 0\.01\)/);

    const columns = CERTIFY.radii.map((r) => certifiedColumn(r, CERTIFY.sigma));
    const board = (JSON.parse(await readFile(path.join(out, 'leaderboard.json'), 'utf8')) as { leaderboards: Leaderboard[] }).leaderboards[0]!;
    expect(board.attacks).toEqual(['fgsm', ...columns]);
    for (const name of ['standard', 'gaussian']) {
      const entry = await readEntry(out, name);
      const cert = entry.certify!.report;
      expect(cert.examples).toHaveLength(10);
      expect(cert.costs.forwardPasses).toBe(10 * (10 + 100));
      const row = board.rows.find((r) => r.name === name)!;
      for (const [k, radius] of CERTIFY.radii.entries()) {
        // Recounted from the per-example certificates: certified, correct and radius ≥ r.
        const count = cert.examples.filter((e) => e.prediction !== ABSTAIN && e.prediction === e.label && e.radius >= radius).length;
        expect(row.attacks[columns[k]!]).toEqual(expect.objectContaining({ accuracy: count / 10, correct: count, n: 10 }));
        expect(row.attacks[columns[k]!]!.interval[0]).toBeLessThanOrEqual(count / 10);
      }
      // The certified curve cannot rise with the radius.
      expect(row.attacks[columns[1]!]!.accuracy).toBeLessThanOrEqual(row.attacks[columns[0]!]!.accuracy);
    }
    // Gaussian augmentation at σ is what makes the smoothed classifier accurate: the standard model
    // under N(0, 0.25²) noise is not better.
    const acc = (name: string) => board.rows.find((r) => r.name === name)!.attacks[columns[0]!]!.accuracy;
    expect(acc('gaussian')).toBeGreaterThanOrEqual(acc('standard'));
    expect(acc('gaussian')).toBeGreaterThan(0.5);
    // Markdown and HTML show the columns.
    expect(first.stdout).toContain(`| ${columns[1]} |`);
    const page = await readFile(html, 'utf8');
    for (const c of columns) expect(page).toContain(c);
    // No journal is left once the certificates are in the result files.
    expect((await readdir(path.join(out, 'entries'))).filter((f) => f.endsWith('.journal'))).toEqual([]);

    // The same certificates as advtest certify on the saved model (same data subset, seed and settings).
    const alone = path.join(dir, 'alone.json');
    const c = await runCli('certify', '--model', path.join(out, 'models', 'gaussian'), '--limit', '10', '--sigma', '0.25', '--n0', '10', '--n', '100', '--alpha', '0.01', '--radii', '0,0.25', '--json', alone, '--quiet');
    expect(c.code, c.stderr).toBe(0);
    const standalone = JSON.parse(await readFile(alone, 'utf8')) as CertifyReport;
    const strip = (r: CertifyReport) => r.examples.map(({ seconds: _s, ...e }) => e);
    expect(strip((await readEntry(out, 'gaussian')).certify!.report)).toEqual(strip(standalone));

    // Killed during gaussian's certification: its evaluation is on disk, part of the certificates in
    // the journal. The rerun trains nothing, evaluates nothing, and takes the journaled examples.
    const standardMtime = (await stat(path.join(out, 'entries', 'standard.json'))).mtimeMs;
    const gaussian = await readEntry(out, 'gaussian');
    const { certify: cert, ...evaluated } = gaussian;
    await writeFile(path.join(out, 'entries', 'gaussian.json'), JSON.stringify(evaluated));
    const r0 = cert!.report;
    // A journaled record the run will take as it is (marked, to see that it was read).
    const marked = { ...r0.examples[0]!, id: 'from-the-journal' };
    const header = { format: 'advtest-certify-journal/1', configHash: r0.configHash, fingerprint: r0.data.fingerprint, seed: r0.seed, model: JSON.stringify(r0.model) };
    const journal = path.join(out, 'entries', `gaussian.certify-${cert!.key.slice(0, 16)}.journal`);
    const stale = path.join(out, 'entries', `gaussian.certify-${'0'.repeat(16)}.journal`);
    await writeFile(journal, [header, marked].map((l) => JSON.stringify(l) + '\n').join(''));
    await writeFile(stale, 'from older settings\n');
    const second = await runCli('bench', '--config', file, '--out', out, '--workers', '1');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/standard: done in an earlier run/);
    expect(second.stderr).toMatch(/gaussian: model trained in an earlier run/);
    expect(second.stderr).toMatch(/gaussian: evaluated in an earlier run/);
    expect(second.stderr).not.toMatch(/: evaluating|: training/);
    expect(second.stderr).toMatch(/gaussian: certifying/);
    const resumed = await readEntry(out, 'gaussian');
    expect(resumed.certify!.report.examples[0]!.id).toBe('from-the-journal');
    expect(strip(resumed.certify!.report).slice(1)).toEqual(strip(r0).slice(1));
    expect(resumed.report).toEqual(gaussian.report);
    expect((await stat(path.join(out, 'entries', 'standard.json'))).mtimeMs).toBe(standardMtime);
    expect(existsSync(journal)).toBe(false);
    expect(existsSync(stale)).toBe(false);

    // Another ε re-evaluates but keeps the certificates; another n re-certifies but keeps the evaluation.
    const standardCertificates = (await readEntry(out, 'standard')).certify;
    await writeFile(file, JSON.stringify({ ...CONFIG, eval: { ...CONFIG.eval, eps: [0.1, 0.2] } }));
    const third = await runCli('bench', '--config', file, '--out', out, '--workers', '1');
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/standard: evaluating/);
    expect(third.stderr).not.toMatch(/: certifying|: training/);
    expect((await readEntry(out, 'standard')).certify).toEqual(standardCertificates);
    expect((await readEntry(out, 'gaussian')).certify!.report.examples[0]!.id).toBe('from-the-journal');
    expect(third.stdout.match(new RegExp(`\\| ${columns[0]!.replace(/[()=.]/g, '\\$&')} \\|`, 'g'))).toHaveLength(2);

    await writeFile(file, JSON.stringify({ ...CONFIG, eval: { ...CONFIG.eval, eps: [0.1, 0.2] }, certify: { ...CERTIFY, n: 120 } }));
    const fourth = await runCli('bench', '--config', file, '--out', out, '--workers', '1');
    expect(fourth.code, fourth.stderr).toBe(0);
    expect(fourth.stderr).not.toMatch(/: evaluating|: training/);
    expect(fourth.stderr).toMatch(/standard: certifying/);
    expect((await readEntry(out, 'gaussian')).certify!.report.costs.forwardPasses).toBe(10 * (10 + 120));

    // Without the section the columns go, and nothing is recomputed.
    await writeFile(file, JSON.stringify({ ...CONFIG, eval: { ...CONFIG.eval, eps: [0.1, 0.2] }, certify: undefined }));
    const fifth = await runCli('bench', '--config', file, '--out', out, '--workers', '1', '--json');
    expect(fifth.code, fifth.stderr).toBe(0);
    expect(fifth.stderr).not.toMatch(/: evaluating|: training|: certifying/);
    expect((JSON.parse(fifth.stdout) as Leaderboard[])[0]!.attacks).toEqual(['fgsm']);
  }, 120_000);
});

describe('advtest bench refuses a certify section that cannot work, before training', () => {
  const cases: [string, unknown, RegExp][] = [
    ['α of ½ or more', { ...CERTIFY, alpha: 0.6 }, /\/certify\/alpha must be < 0\.5/],
    ['a missing σ', { ...CERTIFY, sigma: undefined }, /\/certify must have required property 'sigma'/],
    ['a negative radius', { ...CERTIFY, radii: [0, -1] }, /\/certify\/radii\/1 must be >= 0/],
    ['an unknown field', { ...CERTIFY, sigmas: [0.25] }, /\/certify: unknown field "sigmas"/],
    ['too few samples to certify anything', { ...CERTIFY, n: 5 }, /\/certify\/n 5 is too few samples to certify anything at α 0\.01 .*use n ≥ 7/],
    ['a radius no example can reach', { ...CERTIFY, radii: [0, 0.25, 1] }, /\/certify\/radii 1 cannot be certified with σ 0\.25, n 100, α 0\.01: the largest radius any example can get is 0\.424/],
  ];
  for (const [what, certify, message] of cases) {
    it(`${what}: one line, exit 2, nothing written`, async () => {
      const { dir, file, out } = await setupDir({ ...CONFIG, certify });
      const r = await runCli('bench', '--config', file, '--out', out, '--workers', '1');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(await readdir(dir)).toEqual(['bench.json']);
    });
  }
});

describe('the shipped smoothing bench config', () => {
  it('certifies the entries at radii that n samples can reach, with the σ the entries train with', async () => {
    const config = await loadBenchConfig(path.join(packageRoot(), 'fixtures', 'bench', 'smoothing.json'));
    const c = config.certify!;
    expect(c.radii.every((r) => r <= largestCertifiableRadius(c.sigma, c.n, c.alpha))).toBe(true);
    expect(config.entries.filter((e) => e.defense).map((e) => e.defense)).toEqual([`gaussian=${c.sigma}`, `smooth-adv=sigma:${c.sigma}+eps:0.5+steps:1+m:1`]);
  });
});
