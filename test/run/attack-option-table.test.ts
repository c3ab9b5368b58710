import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleBenchConfig, loadBenchConfig } from '../../src/leaderboard/config.js';
import { benchAttackOptions } from '../../src/leaderboard/validate.js';
import { withAttackOptions } from '../../src/cli/common.js';
import { UserError } from '../../src/errors.js';
import { packageRoot } from '../../src/package-info.js';
import { baselineSchema, type Baseline } from '../../src/regression/baseline-file.js';
import { attackRequest, evaluationHash } from '../../src/regression/spec.js';
import { readBaseline, writeBaseline } from '../../src/regression/store.js';
import { rebuildAttack } from '../../src/report/rebuild-attack.js';
import { ATTACK_OPTION_TABLE, type AttackOptionDeclaration, type AttackOptionTable } from '../../src/run/attack-option-table.js';
import { attacksFrom, type AttackCliOptions } from '../../src/run/attack-options.js';
import { parsePositiveInt } from '../../src/parse.js';
import type { Attack } from '../../src/types.js';

/**
 * A new attack option, declared in the table only here: a wrapper that tags the attack's name
 * and configuration. Nothing else in src/ knows it; every front door must still carry it.
 */
const FIXTURE: AttackOptionDeclaration = {
  name: 'fixtureScale',
  flag: '--fixture-scale <n>',
  type: 'count',
  help: 'a test-only option (scales nothing)',
  wrap: { layer: 4, apply: (attack, text) => ({ ...attack, name: `${attack.name}+scale${text}`, config: { ...attack.config, fixtureScale: parsePositiveInt(text, '--fixture-scale') } }) },
  namePart: /^scale(\d+)$/,
};
const TABLE: AttackOptionTable = [...ATTACK_OPTION_TABLE, FIXTURE];

const described = (a: Attack) => ({ name: a.name, norm: a.norm.name, config: a.config });

/** A command with only the attack options, parsed like the CLI's. */
function parse(args: string[], table: AttackOptionTable = TABLE): AttackCliOptions {
  const cmd = withAttackOptions(new Command('t').exitOverride().configureOutput({ writeErr: () => undefined }), 'fgsm', table);
  cmd.parse(args, { from: 'user' });
  return cmd.opts<AttackCliOptions>();
}

describe('an attack option declared once in the table (issue 14)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-option-table-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reaches the command line: flag, help and parsing; without the row the flag is unknown', () => {
    const opts = parse(['--attack', 'pgd', '--steps', '3', '--fixture-scale', '2']);
    expect((opts as unknown as Record<string, unknown>).fixtureScale).toBe('2');
    const { attacks } = attacksFrom(opts, TABLE);
    expect(attacks.map((a) => a.name)).toEqual(['pgd+scale2']);
    expect(attacks[0]!.config).toMatchObject({ steps: 3, fixtureScale: 2 });
    const help = withAttackOptions(new Command('t'), 'fgsm', TABLE).helpInformation();
    expect(help).toMatch(/--fixture-scale <n>\s+a test-only option/);
    expect(() => attacksFrom(parse(['--fixture-scale', 'x']), TABLE)).toThrow(UserError);
    expect(() => parse(['--fixture-scale', '2'], ATTACK_OPTION_TABLE)).toThrow(/unknown option '--fixture-scale'/);
  });

  it('reaches the bench config: its schema takes the JSON value, and the entry is attacked with it', async () => {
    const config = JSON.parse(await readFile(exampleBenchConfig(), 'utf8')) as { eval: Record<string, unknown> };
    const file = path.join(dir, 'bench.json');
    await writeFile(file, JSON.stringify({ ...config, eval: { ...config.eval, attack: 'pgd', fixtureScale: 2 } }));
    const loaded = await loadBenchConfig(file, TABLE);
    const entry = loaded.entries[0]!;
    const { attacks } = attacksFrom(benchAttackOptions(loaded, entry, TABLE), TABLE);
    expect(attacks.map((a) => a.name)).toEqual([`pgd+scale2${entry.transform ? '+bpda' : ''}`]);
    await expect(loadBenchConfig(file)).rejects.toThrow(/\/eval: unknown field "fixtureScale"/);
    await writeFile(file, JSON.stringify({ ...config, eval: { ...config.eval, fixtureScale: 'two' } }));
    await expect(loadBenchConfig(file, TABLE)).rejects.toThrow(/\/eval\/fixtureScale must be integer/);
  });

  it('reaches the baseline: stored as typed, read back, validated, and rebuilt into the same attack', async () => {
    const opts = parse(['--attack', 'pgd', '--steps', '3', '--fixture-scale', '2']);
    const request = attackRequest(opts, TABLE);
    expect(request).toEqual({ attack: 'pgd', steps: '3', fixtureScale: '2' });
    const baseline = JSON.parse(await readFile(path.join(packageRoot(), 'fixtures', 'baselines', 'mnist-cnn.json'), 'utf8')) as Baseline;
    baseline.evaluation.request = request;
    baseline.configHash = evaluationHash(baseline.evaluation);
    const file = path.join(dir, 'robustness.json');
    await writeBaseline(file, baseline);
    const read = await readBaseline(file);
    expect(read.evaluation.request).toEqual(request);
    const { attacks } = attacksFrom({ ...read.evaluation.request, mode: read.evaluation.mode }, TABLE);
    expect(attacks.map(described)).toEqual(attacksFrom(opts, TABLE).attacks.map(described));
    const validate = new Ajv({ strict: true }).compile(baselineSchema(TABLE));
    expect(validate(read)).toBe(true);
    expect(validate({ ...read, evaluation: { ...read.evaluation, request: { ...request, fixtureScale: 2 } } })).toBe(false);
  });

  it('reaches report rebuilding: the wrapper part of the name is read back; without the row it is unknown', () => {
    const built = attacksFrom({ attack: 'pgd', steps: '3', eot: '2', fixtureScale: '2' } as AttackCliOptions, TABLE).attacks[0]!;
    expect(built.name).toBe('pgd+eot2+scale2');
    expect(described(rebuildAttack(described(built), TABLE))).toEqual(described(built));
    expect(() => rebuildAttack(described(built), ATTACK_OPTION_TABLE)).toThrow(/unknown part "scale2"/);
  });

  it('applies a declared default wherever the option is absent, and says it in the help', () => {
    const table: AttackOptionTable = [...ATTACK_OPTION_TABLE, { ...FIXTURE, default: '5' }];
    expect(attacksFrom({ attack: 'fgsm' }, table).attacks[0]!.name).toBe('fgsm+scale5');
    expect(attacksFrom({ attack: 'fgsm', fixtureScale: '2' } as AttackCliOptions, table).attacks[0]!.name).toBe('fgsm+scale2');
    expect(withAttackOptions(new Command('t'), 'fgsm', table).helpInformation()).toMatch(/a test-only option \(scales nothing\) \(default: 5\)/);
  });

  it('declares each flag so that commander reads it under the option\'s name', () => {
    const bad: AttackOptionDeclaration = { ...FIXTURE, name: 'scale' };
    expect(() => withAttackOptions(new Command('t'), 'fgsm', [bad])).toThrow(/--fixture-scale <n> would be read as fixtureScale/);
  });
});
