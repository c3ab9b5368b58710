import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CertifyReport } from '../../src/certify/report.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'certify-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const common = ['--model', 'fixtures/models/mnist-cnn', '--limit', '4', '--n0', '20', '--n', '200', '--alpha', '0.01', '--radii', '0,0.25,0.5', '--quiet', '--backend', 'wasm'];

describe('advtest certify', () => {
  it('prints the certified-accuracy table, writes the JSON, removes its journal; shards merged by advtest merge equal one run', async () => {
    const whole = path.join(dir, 'whole.json');
    const r = await runCli('certify', ...common, '--json', whole);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/σ = 0.25, n0 = 20, n = 200, α = 0.01/);
    expect(r.stdout).toMatch(/│ 0\.25 +│ \d+\.\d% \[\d+\.\d%, \d+\.\d%\] \(\d\/4\)/);
    expect(r.stdout).toMatch(/abstained: \d+\.\d% \(\d\/4\)/);
    expect(r.stdout).toMatch(/cost: 220 forward passes per example \(880 in all\)/);
    expect(existsSync(`${whole}.journal`)).toBe(false);
    const report = JSON.parse(readFileSync(whole, 'utf8')) as CertifyReport;
    expect(report.examples).toHaveLength(4);

    const shards = [0, 1].map((i) => path.join(dir, `s${i}.json`));
    for (const [i, file] of shards.entries()) expect((await runCli('certify', ...common, '--shard', `${i}/2`, '--json', file)).code).toBe(0);
    const mergedFile = path.join(dir, 'merged.json');
    const m = await runCli('merge', shards[1]!, shards[0]!, '--json', mergedFile);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/L2 radius/);
    const merged = JSON.parse(readFileSync(mergedFile, 'utf8')) as CertifyReport;
    const strip = (x: CertifyReport) => x.examples.map(({ seconds: _s, ...e }) => e);
    expect(strip(merged)).toEqual(strip(report));
    expect(merged.summary).toEqual(report.summary);
  }, 120_000);

  it('bad settings: exit 2 and one line naming the value', async () => {
    const r = await runCli('certify', ...common, '--sigma', '-1');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--sigma "-1" must be a positive/);
    const a = await runCli('certify', ...common, '--alpha', '0.6');
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--alpha 0.6 must be below 0.5/);
  });
});

describe('advtest report on a certify report', () => {
  it('refuses --md (no Markdown view) and an incomplete certify report, one line each, exit 2, nothing written', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = path.join(dir, 'partial.json');
    writeFileSync(file, JSON.stringify({ format: 'advtest-certify/1', summary: { curve: [] } }));
    const md = await runCli('report', file, '--md');
    expect(md.code).toBe(2);
    expect(md.stderr).toMatch(/--md: .*partial\.json is an advtest certify report, which has no Markdown view/);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ format: 'advtest-certify/1' }));
    const r = await runCli('report', broken, '--out', path.join(dir, 'broken.html'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/incomplete advtest certify report \(no summary\.curve\)/);
    expect(existsSync(path.join(dir, 'broken.html'))).toBe(false);
  });
});

describe('the smoothing bench config', () => {
  it('is valid and its defenses parse', async () => {
    const { loadBenchConfig } = await import('../../src/leaderboard/config.js');
    const { makeDefenses } = await import('../../defenses/registry.js');
    const config = await loadBenchConfig('fixtures/bench/smoothing.json');
    expect(config.entries.map((e) => e.name)).toEqual(['standard', 'gaussian', 'smooth-adv']);
    expect(config.entries.slice(1).map((e) => makeDefenses(e.defense!, { eps: 0.1 })[0]!.name)).toEqual(['gaussian=0.25', 'smooth-adv']);
  });
});
