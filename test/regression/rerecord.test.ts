import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { withAttackOptions, withEvaluationOptions } from '../../src/cli/common.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import { rerecordCommand } from '../../src/regression/rerecord.js';
import { attackRequest } from '../../src/regression/spec.js';
import type { AttackCliOptions } from '../../src/run/attack-options.js';

describe('the command that records a baseline again', () => {
  it('gives back every setting of the evaluation, with paths from the working directory', () => {
    const cwd = '/work/repo';
    const baseline = {
      model: { path: '../models/robust' },
      evaluation: {
        data: 'folder:../photos',
        dataDir: '../idx',
        split: 'train',
        limit: 50,
        request: { attack: 'pgd', steps: '5', bpda: true },
        mode: 'sequential',
        transform: 'jpeg:75',
        epsilons: [0.1, 8 / 255],
        seed: 3,
        batchSize: 32,
        target: 'least-likely',
      },
    } as unknown as Baseline;
    const command = rerecordCommand(baseline, '/work/repo/ci/robustness.json', cwd);
    expect(command).toBe(
      `advtest baseline --model models/robust --data folder:photos --data-dir idx --split train --limit 50 --attack pgd --steps 5 --bpda --mode sequential --transform jpeg:75 --eps 0.1,${8 / 255} --seed 3 --batch-size 32 --targeted least-likely --out ci/robustness.json --force`,
    );
    // The command's options, parsed as `advtest baseline` parses them, are the stored ones.
    const args = command.split(' ').slice(2);
    const opts = withAttackOptions(withEvaluationOptions(new Command('baseline').option('--model <dir>').option('--out <file>').option('--seed <n>').option('--force')))
      .parse(args, { from: 'user' })
      .opts<AttackCliOptions & { eps: string; data: string; limit: string }>();
    expect(attackRequest(opts)).toEqual(baseline.evaluation.request);
    expect(opts.mode).toBe('sequential');
    expect(opts.eps.split(',').map(Number)).toEqual(baseline.evaluation.epsilons);
    // Outside the working directory: absolute.
    expect(rerecordCommand(baseline, '/tmp/b.json', cwd)).toContain(`--model ${path.resolve('/tmp', '../models/robust')} `);
  });
});
