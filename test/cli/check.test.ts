import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTolerance } from '../../src/cli/commands/check.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import { evaluationHash } from '../../src/regression/spec.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { perturbedModel } from '../regression/perturbed-model.js';

const MODEL = fixtureModelPath('mnist-cnn');

/** The table's row for a figure, e.g. row(stdout, 'fgsm', '0.1') (the norm is in the default table's header). */
function row(stdout: string, figure: string, eps = ''): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`│ ${figure} `) && l.split('│')[2]!.trim() === eps);
  if (line === undefined) throw new Error(`no row ${figure} ${eps} in\n${stdout}`);
  return line;
}

/** A row's cells: change in points, lost, gained, p and verdict. */
function cells(line: string): { change: number; lost: number; gained: number; p: string; verdict: string } {
  const c = line.split('│').map((x) => x.trim());
  return { change: Number.parseFloat(c[5]!), lost: Number(c[6]), gained: Number(c[7]), p: c[8]!, verdict: c[9]! };
}

describe('advtest baseline and advtest check', () => {
  let dir: string;
  let file: string;
  let small: string;
  let weakened: string;
  let jittered: string;

  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-check-'));
    file = path.join(dir, 'robustness.json');
    small = path.join(dir, 'small.json');
    // Weight noise of 0.8 standard deviations per tensor costs ~28 points of FGSM accuracy at
    // ε = 0.1; 0.05 of them moves a few of 100 examples.
    weakened = await perturbedModel(MODEL, { noise: 0.8, seed: 1 });
    jittered = await perturbedModel(MODEL, { noise: 0.05, seed: 1 });
    const r = await runCli('baseline', '--model', MODEL, '--attack', 'fgsm', '--eps', '0.1,0.2', '--limit', '300', '--out', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/clean accuracy: .*\(\d+\/300\)/);
    expect(r.stderr).toMatch(/baseline written to .*robustness.json: 300 examples, 5 figures, config [0-9a-f]{12}/);
    const s = await runCli('baseline', '--model', MODEL, '--attack', 'fgsm', '--eps', '0.1,0.2', '--limit', '100', '--out', small, '--quiet');
    expect(s.code, s.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const d of [dir, weakened, jittered]) await rm(d, { recursive: true, force: true });
  });

  it('records the evaluation, the figures and the examples', async () => {
    const b = JSON.parse(await readFile(file, 'utf8')) as Baseline;
    expect(b.format).toBe('advtest-baseline/1');
    expect(b.evaluation).toMatchObject({ data: 'mnist', split: 'test', limit: 300, epsilons: [0.1, 0.2], seed: 0, batchSize: 128, target: 'untargeted' });
    expect(b.evaluation.attacks.map((a) => a.name)).toEqual(['fgsm']);
    expect(b.configHash).toBe(evaluationHash(b.evaluation));
    expect(path.resolve(dir, b.model.path)).toBe(path.resolve(MODEL));
    expect(b.data.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(b.versions.tfjs).toBe('4.22.0');
    expect(b.backend.name).toBe('wasm');
    expect(b.figures.results.map((f) => f.eps)).toEqual([0.1, 0.2]);
    expect(b.figures.results[0]!.interval[0]).toBeLessThan(b.figures.results[0]!.accuracy);
    expect(b.examples.ids).toHaveLength(300);
    // The sanity checks of the run that made it, for check to show beside the re-run's.
    expect(b.sanity!.map((c) => c.id)).toEqual(['monotone:fgsm', 'finite-gradients', 'nonzero-gradients', 'deterministic']);
  });

  it('passes an unchanged model against its own baseline (exit 0)', async () => {
    const r = await runCli('check', '--baseline', file, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(row(r.stdout, 'fgsm', '0.1')).toMatch(/0\.0 pts .* 0 .* 0 .* 1\.0000 .* unchanged/);
    expect(r.stdout).toMatch(/^PASS: no figure regressed \(drop > 1\.0 pts and p < 0\.05, exact one-sided McNemar test/m);
    expect(r.stderr).toBe('');
    // --md: both runs' sanity checks side by side, the re-run's not a second time.
    const md = await runCli('check', '--baseline', file, '--quiet', '--md');
    expect(md.stdout).toMatch(/^\*\*Sanity checks:\*\* before 4\/4 passed · after \d\/4 passed/m);
    for (const id of ['monotone:fgsm', 'finite-gradients', 'nonzero-gradients', 'deterministic']) expect(md.stdout).toMatch(new RegExp(`^\\| ${id} +\\| +✓ +\\| +(✓|✗ flag) +\\|$`, 'm'));
    expect(md.stdout).not.toMatch(/^Sanity checks: /m);
    // Per-class robust accuracy of both runs: ten digits, unchanged.
    expect(md.stdout).toContain('**Per-class robust accuracy (fgsm (linf)):** before → after (change in points)');
    const digits = md.stdout.split('\n').filter((l) => /^\| \d +\| +\d+ \|.*→/.test(l));
    expect(digits).toHaveLength(10);
    for (const l of digits) expect(l).toMatch(/\| +(\d+\.\d%) → \1 \(±0\.0\) \| +(\d+\.\d%) → \2 \(±0\.0\) \|$/);
  });

  it('fails a weakened model with exit code 1, a readable table and the lost examples', async () => {
    const page = path.join(dir, 'check.html');
    const r = await runCli('check', '--baseline', file, '--model', weakened, '--quiet', '--html', page);
    expect(r.code).toBe(1);
    // The page shows the sanity checks of both runs: two blocks of four.
    const html = await readFile(page, 'utf8');
    const section = /<section id="sanity">(.*?)<\/section>/s.exec(html)![1]!;
    // One chart with both runs' curves (fgsm only: named at the line ends), and a card counting both runs.
    const curves = /<section id="curves">(.*?)<\/section>/s.exec(html)![1]!;
    for (const line of ['before · fgsm', 'after · fgsm']) expect(curves).toContain(`>${line}</text>`);
    expect(html).toMatch(/<div class="label">sanity checks<\/div><div class="value">before 4\/4 · after \d\/4<\/div>/);
    expect([...section.matchAll(/<h3>(.*?)<\/h3>(.*?)<\/div>/gs)].map((m) => [m[1]!.replace(/: \d\/4 passed$/, ''), (m[2]!.match(/<li /g) ?? []).length])).toEqual([
      [`before: baseline ${file}`, 4],
      [`after: ${weakened}`, 4],
    ]);
    expect(r.stdout).toMatch(/│ figure \(linf\) +│ ε +│ before +│ after +│ change +│ lost +│ gained +│ p +│ verdict +│/);
    const fgsm01 = row(r.stdout, 'fgsm', '0.1');
    expect(fgsm01).toMatch(/│ \d+\.\d% +│ \d+\.\d% +│ -\d+\.\d pts │ \d+ +│ \d+ +│ <0\.0001 │ REGRESSION │/);
    expect(cells(fgsm01).change).toBeLessThan(-20);
    // Both runs' sanity checks: the baseline's (recorded with it) and the re-run's, the same four.
    expect(r.stdout).toMatch(/^sanity checks: before 4\/4 passed · after \d\/4 passed/m);
    for (const id of ['monotone:fgsm', 'finite-gradients', 'nonzero-gradients', 'deterministic']) expect(r.stdout).toMatch(new RegExp(`^│ ${id} +│ ✓ +│ (✓|✗ flag) +│$`, 'm'));
    // The figures' table fits 100 columns; --wide adds the intervals and each row's norm.
    const table = (out: string) => {
      const lines = out.split('\n');
      return lines.slice(lines.findIndex((l) => l.startsWith('┌')), lines.findIndex((l) => l.startsWith('└')) + 1);
    };
    expect(table(r.stdout)).toHaveLength(2 + 3 + 1);
    expect(Math.max(...table(r.stdout).map((l) => [...l].length))).toBeLessThanOrEqual(100);
    const wide = await runCli('check', '--baseline', file, '--model', weakened, '--quiet', '--wide');
    expect(wide.stdout).toMatch(/│ figure +│ ε +│ before \[95% CI\] +│ after \[95% CI\] +│ change +│ lost +│ gained +│ p +│ verdict +│/);
    expect(row(wide.stdout, 'fgsm (linf)', '0.1')).toMatch(/│ \d+\.\d% \[\d+\.\d%, \d+\.\d%\] │ \d+\.\d% \[\d+\.\d%, \d+\.\d%\] │ -\d+\.\d pts │ \d+ +│ \d+ +│ <0\.0001 │ REGRESSION │/);
    expect(cells(row(wide.stdout, 'fgsm (linf)', '0.1'))).toEqual(cells(fgsm01));
    expect(r.stdout).toMatch(/^fgsm \(linf\) ε=0\.1 lost: (mnist\/test\/\d\/\d+, ){9}mnist\/test\/\d\/\d+ … \(\+\d+ more\)$/m);
    expect(r.stdout).toMatch(/^FAIL: 3 regressions: clean -\d+\.\d pts, fgsm \(linf\) ε=0\.1 -\d+\.\d pts, fgsm \(linf\) ε=0\.2 -\d+\.\d pts \(drop > 1\.0 pts and p < 0\.05, exact one-sided McNemar test/m);
    expect(r.stderr).toMatch(/^advtest: regression: 3 of 3 figures dropped by more than 1\.0 pts with p < 0\.05; largest: fgsm \(linf\) ε=0\.1 -\d+\.\d pts\n$/);
    // Per class in the terminal (it fits 100 columns): ten digits, their changes adding up to the figure's.
    const perClass = r.stdout.split('\n');
    const start = perClass.indexOf('per-class robust accuracy (fgsm (linf)), before → after (change in pts):');
    expect(start).toBeGreaterThan(0);
    const digitRows = perClass.slice(start).filter((l) => /^│ \d +│/.test(l)).slice(0, 10);
    expect(digitRows).toHaveLength(10);
    for (const l of perClass.slice(start + 1, start + 14)) expect([...l].length).toBeLessThanOrEqual(100);
    // 30 examples per digit: the class changes, weighted equally, average to the figure's change.
    const changes = digitRows.map((l) => Number(/\(([−+±])(\d+\.\d)\) │ [^│]+│$/.exec(l)![2]) * (l.includes('(−') ? -1 : 1));
    expect(changes.some((c) => c < 0)).toBe(true);
    expect(changes.reduce((a, c) => a + c, 0) / 10).toBeCloseTo(cells(fgsm01).change, 0);
    // And on the page, sortable, the classes that dropped in red.
    const classSection = /<section id="class-deltas">(.*?)<\/section>/s.exec(html)![1]!;
    expect(classSection.match(/<tbody>(.*?)<\/tbody>/s)![1]!.match(/<tr>/g)).toHaveLength(10);
    expect(classSection).toMatch(/<td class="lost" data-value="-0\.\d+">−\d+\.\d<\/td>/);
  });

  it('passes noise-level differences on a small subset: drops above the tolerance that chance explains', async () => {
    const r = await runCli('check', '--baseline', small, '--model', jittered, '--quiet');
    expect(r.code, r.stdout).toBe(0);
    // The jitter costs 3 of 100 examples at each ε, more than the 1-point tolerance; but 3 lost
    // and none gained happens by chance with p = 1/8: the test, not the tolerance, lets it pass.
    for (const eps of ['0.1', '0.2']) {
      expect(cells(row(r.stdout, 'fgsm', eps))).toEqual({ change: -3, lost: 3, gained: 0, p: '0.1250', verdict: 'not significant' });
    }
    expect(r.stdout).toMatch(/^PASS/m);
  });

  it('fails the same jitter with a looser α: the significance level is the user\'s', async () => {
    const r = await runCli('check', '--baseline', small, '--model', jittered, '--alpha', '0.2', '--quiet');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL: 2 regressions: .*p < 0\.2/m);
  });

  it('prints the comparison as JSON for machines', async () => {
    const out = path.join(dir, 'check.json');
    const r = await runCli('check', '--baseline', file, '--model', weakened, '--json', '--quiet');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { format: string; passed: boolean; figures: { kind: string; eps?: number; verdict: string; lost: number; lostIds: string[]; pValue: number }[] };
    expect(json.format).toBe('advtest-check/1');
    expect(json.passed).toBe(false);
    const f = json.figures.find((x) => x.kind === 'attack' && x.eps === 0.1)!;
    expect(f.verdict).toBe('regression');
    expect(f.lostIds).toHaveLength(f.lost);
    const w = await runCli('check', '--baseline', file, '--json', out, '--quiet');
    expect(w.code).toBe(0);
    expect((JSON.parse(await readFile(out, 'utf8')) as { passed: boolean }).passed).toBe(true);
  });

  it.each([
    [['--eps', '0.3'], /was recorded with another evaluation \(ε: baseline 0\.1, 0\.2; now 0\.3\): re-create it with `advtest baseline … --force`/],
    [['--attack', 'fgm'], /attacks: baseline fgsm; now fgm/],
    [['--limit', '200', '--seed', '4'], /limit: baseline 300; now 200; seed: baseline 0; now 4/],
    [['--data', 'fashion-mnist'], /data: baseline mnist; now fashion-mnist/],
  ])('refuses a check asking for another evaluation (%j) with exit code 2', async (extra, message) => {
    const r = await runCli('check', '--baseline', file, '--quiet', ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('rebuilds attacks from the stored options, and refuses other options', async () => {
    const pgd = path.join(dir, 'pgd.json');
    const made = await runCli('baseline', '--model', MODEL, '--attack', 'pgd', '--steps', '3', '--eps', '0.1', '--limit', '50', '--out', pgd, '--quiet');
    expect(made.code, made.stderr).toBe(0);
    expect((JSON.parse(await readFile(pgd, 'utf8')) as Baseline).evaluation.request).toEqual({ attack: 'pgd', steps: '3' });
    const same = await runCli('check', '--baseline', pgd, '--quiet');
    expect(same.code, same.stderr).toBe(0);
    expect(cells(row(same.stdout, 'pgd', '0.1')).verdict).toBe('unchanged');
    // --steps without --attack applies to the baseline's attack.
    const other = await runCli('check', '--baseline', pgd, '--steps', '5', '--mode', 'sequential', '--quiet');
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/attack pgd settings: baseline \{.*"steps":3.*\}; now \{.*"steps":5.*\}; suite mode: baseline independent; now sequential/);
  });

  it('refuses a baseline whose attack settings are not what the registry builds today (exit 2)', async () => {
    const b = JSON.parse(await readFile(file, 'utf8')) as Baseline;
    b.evaluation.attacks[0]!.config = { ...b.evaluation.attacks[0]!.config, steps: 10 };
    b.configHash = evaluationHash(b.evaluation);
    const edited = path.join(dir, 'other-attack.json');
    await writeFile(edited, JSON.stringify(b));
    const r = await runCli('check', '--baseline', edited, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/attack fgsm settings: baseline \{.*"steps":10.*\}; now \{.*"steps":1.*\}/);
  });

  it('refuses a baseline made on other data (exit 2, before running any attack)', async () => {
    const b = JSON.parse(await readFile(file, 'utf8')) as Baseline;
    b.data.fingerprint = '0'.repeat(64);
    const edited = path.join(dir, 'other-data.json');
    await writeFile(edited, JSON.stringify(b));
    const r = await runCli('check', '--baseline', edited, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/data: the 300 examples of mnist differ from the baseline's 300 \(fingerprint 000000000000…; now [0-9a-f]{12}…\)/);
  });

  it.each([
    ['{"format": "advtest-baseline/0"}', /format advtest-baseline\/0, which this advtest cannot read .*re-create it with `advtest baseline/],
    ['{"format": "advtest-baseline/1"}', /is not a valid advtest-baseline\/1 file \(the top level must have required property/],
    ['not json', /is not valid JSON/],
  ])('refuses a malformed baseline %s with exit code 2', async (text, message) => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, text);
    const r = await runCli('check', '--baseline', bad, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    [['--tolerance', '2'], /--tolerance 2 is 100% or more: write 2% or 0\.02/],
    [['--alpha', '0'], /--alpha "0" must be a significance level/],
    [['--test', 'wilcoxon'], /argument 'wilcoxon' is invalid/],
  ])('refuses bad options %j with exit code 2', async (extra, message) => {
    const r = await runCli('check', '--baseline', file, '--quiet', ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('parseTolerance', () => {
  it.each([
    ['1%', 0.01],
    ['2.5 pts', 0.025],
    ['1pt', 0.01],
    ['0.02', 0.02],
    ['0', 0],
  ])('reads %s as %f', (text, value) => {
    expect(parseTolerance(text)).toBeCloseTo(value, 12);
  });

  it('refuses values that are not drops', () => {
    expect(() => parseTolerance('-1%')).toThrow(/not a drop in accuracy/);
    expect(() => parseTolerance('100%')).toThrow(/100% or more/);
  });
});
