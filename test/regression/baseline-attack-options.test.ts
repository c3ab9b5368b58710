import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAttackOptions } from '../../src/cli/common.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { recordBaseline } from '../../src/regression/baseline.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import { runCheck } from '../../src/regression/check.js';
import { attackRequest } from '../../src/regression/spec.js';
import type { AttackCliOptions } from '../../src/run/attack-options.js';
import { useTestBackend } from '../helpers/backend.js';

/** The attack options as the baseline command parses them. */
function cli(...args: string[]): AttackCliOptions {
  return withAttackOptions(new Command('baseline')).parse(args, { from: 'user' }).opts<AttackCliOptions>();
}

// Baselines used to store only --attack, --steps, --step-size, --restarts, --norm, --loss, --bpda and
// --eot: one made with --targets 3 was evaluated (and checked) with apgd-t's default 9 targets.
describe('a baseline keeps every attack option it was made with', () => {
  let dir: string;
  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-baseline-options-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--targets 3: recorded with 3 targets, stored, and checked against the same attack', async () => {
    const out = path.join(dir, 'robustness.json');
    const request = attackRequest(cli('--attack', 'apgd-t', '--steps', '2', '--targets', '3'));
    expect(request).toEqual({ attack: 'apgd-t', steps: '2', targets: '3' });
    await recordBaseline({ modelDir: fixtureModelPath('mnist-cnn'), data: 'mnist', request, epsilons: [0.1], limit: 20, seed: 0, batchSize: 20, target: 'untargeted', out });
    const stored = JSON.parse(await readFile(out, 'utf8')) as Baseline;
    expect(stored.evaluation.request.targets).toBe('3');
    expect(stored.evaluation.attacks[0]!.config.targets).toBe(3);
    const check = await runCheck({ baseline: out });
    expect(check.passed).toBe(true);
    expect(check.report.config.attacks[0]!.config.targets).toBe(3);
    // An explicit other --targets is a different evaluation: refused, naming the settings.
    await expect(runCheck({ baseline: out, overrides: { request: { steps: '2', targets: '4' } } })).rejects.toThrow(/attack apgd-t settings: baseline .*"targets":3.*now .*"targets":4/);
  });

  it('--placement fixed and --input-diversity are stored as typed', () => {
    expect(attackRequest(cli('--attack', 'patch', '--placement', 'fixed'))).toEqual({ attack: 'patch', placement: 'fixed' });
    expect(attackRequest(cli('--attack', 'bim', '--input-diversity', '0.7', '--bpda'))).toEqual({ attack: 'bim', inputDiversity: '0.7', bpda: true });
  });
});
