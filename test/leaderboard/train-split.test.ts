import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EntryResult } from '../../src/leaderboard/run.js';
import type { Leaderboard } from '../../src/report/leaderboard.js';
import { runCli } from '../helpers/cli.js';

describe('advtest bench with eval.trainLimit', () => {
  it('evaluates the same attacks on training digits too and adds a "train worst case" column (robust overfitting)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-bench-train-'));
    try {
      const file = path.join(dir, 'bench.json');
      await writeFile(file, JSON.stringify({
        data: 'mnist',
        train: { arch: 'mlp', epochs: 1, batchSize: 64, seed: 0, trainEps: 0.3, holdout: 0 },
        eval: { attack: 'fgsm', eps: [0.1, 0.3], limit: 40, trainLimit: 30, seed: 0 },
        entries: [{ name: 'standard' }],
      }));
      const out = path.join(dir, 'results');
      const run = await runCli('bench', '--config', file, '--out', out, '--quiet');
      expect(run.code, run.stderr).toBe(0);
      const entry = JSON.parse(await readFile(path.join(out, 'entries', 'standard.json'), 'utf8')) as EntryResult;
      expect(entry.report.data.split).toBe('test');
      expect(entry.trainReport!.data.split).toBe('train');
      expect(entry.trainReport!.clean.n).toBe(30);
      const board = JSON.parse(await readFile(path.join(out, 'leaderboard.json'), 'utf8')) as { leaderboards: Leaderboard[] };
      for (const b of board.leaderboards) {
        expect(b.attacks).toEqual(['fgsm', 'train worst case']);
        const train = b.rows[0]!.attacks['train worst case']!;
        const expected = entry.trainReport!.worstCase.find((w) => w.eps === b.eps)!;
        expect(train.accuracy).toBe(expected.accuracy);
        expect(train.n).toBe(30);
      }
      expect(run.stdout).toMatch(/train worst case/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
