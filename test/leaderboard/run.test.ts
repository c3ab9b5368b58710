import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import type { Leaderboard } from '../../src/report/leaderboard.js';
import type { EntryResult } from '../../src/leaderboard/run.js';
import { runCli } from '../helpers/cli.js';

const CONFIG = {
  data: 'mnist',
  train: { arch: 'mlp', epochs: 1, batchSize: 64, seed: 0, trainEps: 0.3, holdout: 30 },
  eval: { attack: 'fgsm,pgd', steps: 5, eps: [0.1, 0.3], limit: 60, seed: 0, mode: 'independent' },
  entries: [
    { name: 'standard' },
    { name: 'fgsm-at', defense: 'fgsm-at' },
    { name: 'bit-depth', transform: 'bit-depth=2' },
  ],
};

async function setupDir(config: unknown = CONFIG): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'advtest-bench-'));
  const file = path.join(dir, 'bench.json');
  await writeFile(file, JSON.stringify(config));
  return { dir, file };
}

describe('advtest bench', () => {
  it('trains each entry, evaluates all alike, ranks them, and resumes where it stopped', async () => {
    const { dir, file } = await setupDir();
    const out = path.join(dir, 'results');
    const first = await runCli('bench', '--config', file, '--out', out, '--quiet');
    expect(first.code).toBe(0);
    const board = JSON.parse(await readFile(path.join(out, 'leaderboard.json'), 'utf8')) as { leaderboards: Leaderboard[] };
    expect(board.leaderboards.map((b) => b.eps)).toEqual([0.1, 0.3]);
    const rows = board.leaderboards[1]!.rows;
    expect(rows.map((r) => r.name)).toEqual(['standard', 'fgsm-at', 'bit-depth (BPDA)']);
    for (const r of rows) {
      expect(Object.keys(r.attacks)).toEqual(['fgsm', 'pgd']);
      expect(r.worstCase.accuracy).toBeLessThanOrEqual(Math.min(r.attacks.fgsm!.accuracy, r.attacks.pgd!.accuracy));
      expect(r.worstCase.interval[0]).toBeLessThanOrEqual(r.worstCase.accuracy);
    }
    // The input transform is attacked adaptively, so rounding does not pass for robustness.
    expect(rows[2]!.worstCase.accuracy).toBeLessThan(0.2);
    // Every row carries its sanity verdict; BPDA makes the transform's zero gradients no flag.
    expect(rows.map((r) => r.flags)).toEqual([[], [], []]);
    expect(first.stdout).toMatch(/\| sanity \|/);
    expect(first.stdout).toMatch(/\| standard/);
    // Each entry keeps its monitor's curve (robustness against training time) for the page.
    const saved = JSON.parse(await readFile(path.join(out, 'entries', 'fgsm-at.json'), 'utf8')) as EntryResult;
    expect(saved.trainingCurve).toMatchObject({ examples: 30, attack: 'pgd', eps: 0.3, history: [{ epoch: 1, n: 30, seconds: expect.any(Number) }] });

    // An interrupted run: the last entry's result is gone. Only that entry is redone, on the
    // model already trained with the same training settings.
    const kept = path.join(out, 'entries', 'standard.json');
    const before = (await stat(kept)).mtimeMs;
    await rm(path.join(out, 'entries', 'bit-depth.json'));
    const second = await runCli('bench', '--config', file, '--out', out);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/standard: done in an earlier run/);
    expect(second.stderr).toMatch(/bit-depth: model trained in an earlier run/);
    expect(second.stderr).toMatch(/bit-depth: evaluating/);
    expect((await stat(kept)).mtimeMs).toBe(before);
    const again = JSON.parse(await readFile(path.join(out, 'leaderboard.json'), 'utf8')) as { leaderboards: Leaderboard[] };
    expect(again.leaderboards[1]!.rows.map((r) => r.worstCase.accuracy)).toEqual(rows.map((r) => r.worstCase.accuracy));
  }, 300_000);

  it('refuses an invalid config, naming the field and the fix', async () => {
    const { dir, file } = await setupDir({ ...CONFIG, entries: [{ name: 'x', epochz: 3 }] });
    const r = await runCli('bench', '--config', file, '--out', path.join(dir, 'out'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/entries\/0: unknown field "epochz".*defenses\.json/);
  });

  it('refuses duplicate entry names', async () => {
    const { dir, file } = await setupDir({ ...CONFIG, entries: [{ name: 'a' }, { name: 'a' }] });
    const r = await runCli('bench', '--config', file, '--out', path.join(dir, 'out'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/entry name "a" is used twice/);
  });
});

describe('advtest bench --workers', () => {
  it('evaluates on worker threads with per-example results identical to one thread (a plain and a BPDA entry)', async () => {
    const config = {
      ...CONFIG,
      eval: { ...CONFIG.eval, limit: 300 },
      entries: [{ name: 'standard' }, { name: 'bit-depth', transform: 'bit-depth=2' }],
    };
    const { dir, file } = await setupDir(config);
    const reports: Record<string, unknown>[] = [];
    for (const workers of ['1', '2']) {
      const out = path.join(dir, `w${workers}`);
      // w2 starts from w1's trained models (bench reuses a model trained with the same settings):
      // only the evaluation differs, and the suite trains two models, not four. Training
      // determinism has its own test (test/train/loop.test.ts).
      if (workers === '2') await cp(path.join(dir, 'w1', 'models'), path.join(out, 'models'), { recursive: true });
      const r = await runCli('bench', '--config', file, '--out', out, '--workers', workers);
      expect(r.code, r.stderr).toBe(0);
      if (workers === '2') {
        expect(r.stderr).toMatch(/standard: model trained in an earlier run/);
        expect(r.stderr).toMatch(/standard: evaluating fgsm, pgd at ε 0\.1, 0\.3 on 2 workers/);
      }
      for (const name of ['standard', 'bit-depth']) {
        const entry = JSON.parse(await readFile(path.join(out, 'entries', `${name}.json`), 'utf8')) as { report: Report };
        const { timings: _t, ...rest } = entry.report;
        void _t;
        expect(rest.data.size).toBe(300);
        // The model folders differ (w1/, w2/); everything computed must not.
        reports.push({ name, ...rest, model: { ...rest.model, path: undefined, preprocessingFrom: undefined } });
      }
    }
    expect(reports[2]).toEqual(reports[0]);
    expect(reports[3]).toEqual(reports[1]);
  }, 300_000);
});

describe('advtest bench with confirm', () => {
  // FGSM ranks; PGD (the stronger attack) confirms the two leading rows at ε 0.1 only.
  const config = {
    ...CONFIG,
    eval: { attack: 'fgsm', eps: [0.1, 0.3], limit: 60, seed: 0 },
    confirm: { attack: 'pgd', steps: 10, top: 2, eps: [0.1] },
    entries: [{ name: 'standard' }, { name: 'fgsm-at', defense: 'fgsm-at' }],
  };

  it('runs the reference attack on the leading rows, takes it into the worst case, and keeps it on resume', async () => {
    const { dir, file } = await setupDir(config);
    const out = path.join(dir, 'results');
    const page = path.join(dir, 'board.html');
    const first = await runCli('bench', '--config', file, '--out', out, '--workers', '1', '--html', page);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/confirming with pgd at ε 0\.1 \(a leading row\)/);
    expect(await readFile(page, 'utf8')).toMatch(/<p class="note">pgd: run only on the leading rows/);
    const board = JSON.parse(await readFile(path.join(out, 'leaderboard.json'), 'utf8')) as { leaderboards: Leaderboard[] };
    const [at, other] = board.leaderboards as [Leaderboard, Leaderboard];
    expect(other.attacks).toEqual(['fgsm']);
    expect(other.notes).toBeUndefined();
    expect(at.attacks).toEqual(['fgsm', 'pgd']);
    expect(at.notes?.[0]).toMatch(/^pgd: run only on the leading rows/);
    expect(first.stdout).toMatch(/pgd: run only on the leading rows/);
    expect(first.stderr.match(/confirming with pgd/g)).toHaveLength(2);
    for (const r of at.rows) {
      // Per example over both attacks: no better than either alone.
      expect(r.worstCase.accuracy).toBeLessThanOrEqual(Math.min(r.attacks.fgsm!.accuracy, r.attacks.pgd!.accuracy));
      const saved = JSON.parse(await readFile(path.join(out, 'entries', `${r.name}.json`), 'utf8')) as EntryResult;
      expect(saved.confirmations?.map((c) => [c.attack, c.eps, c.report.config.attacks[0]!.name])).toEqual([['pgd', 0.1, 'pgd']]);
    }
    const resumed = await runCli('bench', '--config', file, '--out', out);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/done in an earlier run/);
    expect(resumed.stderr).not.toMatch(/confirming/);
    const again = JSON.parse(await readFile(path.join(out, 'leaderboard.json'), 'utf8')) as { leaderboards: Leaderboard[] };
    expect(again.leaderboards[0]!.rows).toEqual(at.rows);

    // Another confirming attack: a run with --only leaves it to the last run and says so, on the
    // board too; the run without --only confirms again on the models already trained, the evaluation kept.
    await writeFile(file, JSON.stringify({ ...config, confirm: { ...config.confirm, steps: 3 } }));
    const partial = await runCli('bench', '--config', file, '--out', out, '--only', 'standard,fgsm-at');
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stderr).toMatch(/confirm: the leading rows are confirmed with pgd by a run without --only/);
    expect(partial.stderr).not.toMatch(/confirming/);
    expect(partial.stdout).toMatch(/⚠ pgd: the best row here has not been confirmed yet/);
    const changed = await runCli('bench', '--config', file, '--out', out);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stderr.match(/done in an earlier run/g)).toHaveLength(2);
    expect(changed.stderr.match(/model trained in an earlier run/g)).toHaveLength(2);
    expect(changed.stderr.match(/confirming with pgd/g)).toHaveLength(2);

    // Results without their models (copied from elsewhere): the confirmation refuses to train new ones.
    for (const name of ['standard', 'fgsm-at']) await rm(path.join(out, 'models', `${name}.training.json`));
    await writeFile(file, JSON.stringify({ ...config, confirm: { ...config.confirm, steps: 4 } }));
    const orphan = await runCli('bench', '--config', file, '--out', out);
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toMatch(/its confirmation with pgd needs the model its evaluation attacked, but .* holds no model trained with the entry's settings.*copy its model folder/);
    expect(orphan.stderr).not.toMatch(/: training/);
  }, 300_000);

  it('refuses a confirm ε the evaluation does not have, naming both', async () => {
    const { dir, file } = await setupDir({ ...config, confirm: { attack: 'pgd', eps: [0.2] } });
    const r = await runCli('bench', '--config', file, '--out', path.join(dir, 'out'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/confirm\/eps 0\.2 is not among \/eval\/eps \(0\.1, 0\.3\)/);
    await expect(stat(path.join(dir, 'out'))).rejects.toThrow();
  });

  it('refuses an unknown confirming attack before anything trains', async () => {
    const { dir, file } = await setupDir({ ...config, confirm: { attack: 'pgdd' } });
    const r = await runCli('bench', '--config', file, '--out', path.join(dir, 'out'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/confirm: .*pgdd/);
  });
});
