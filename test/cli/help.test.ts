import { describe, expect, it } from 'vitest';
import { ATTACK_REGISTRY, PRESETS } from '../../attacks/index.js';
import { runCli } from '../helpers/cli.js';

/** Issue 18, item 6: help with examples, attack names, one error style, useful suggestions. */
const COMMANDS = ['demo', 'train', 'eval', 'attack', 'certify', 'merge', 'baseline', 'check', 'leaderboard', 'report', 'compare', 'grid', 'serve'];

describe('advtest --help', () => {
  it('lists examples for the program and every command', async () => {
    const top = await runCli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/\nExamples:\n {2}\$ advtest /);
    // A command with an alias is listed as name|alias.
    const names = [...top.stdout.matchAll(/^ {2}([a-z]+)(?:\|[a-z]+)? /gm)].map((m) => m[1]!).filter((n) => n !== 'help');
    expect(names).toEqual(expect.arrayContaining(COMMANDS));
    for (const name of names) {
      const r = await runCli(name, '--help');
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`\\nExamples:\\n {2}\\$ advtest ${name}\\b`));
    }
  });

  it('leaderboard is the defense leaderboard, with bench (its earlier name) as an alias', async () => {
    const top = await runCli('--help');
    expect(top.stdout).toMatch(/^ {2}leaderboard\|bench \[options\]/m);
    const help = await runCli('leaderboard', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: advtest leaderboard\|bench \[options\]/);
    expect(help.stdout).toContain('--config <file>');
    const alias = await runCli('bench', '--help');
    expect(alias.code).toBe(0);
    expect(alias.stdout).toBe(help.stdout);
  });

  it('names every registered attack and preset in --attack', async () => {
    const r = await runCli('eval', '--help');
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const name of [...Object.keys(ATTACK_REGISTRY), ...Object.keys(PRESETS)]) expect(help).toContain(name);
  });

  it('attack --help offers neither suites, presets nor --mode, which attack refuses', async () => {
    const r = await runCli('attack', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/--mode\s/);
    expect(r.stdout).not.toMatch(/suite|preset|strong/);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const name of Object.keys(ATTACK_REGISTRY)) expect(help).toContain(name);
  });
});

describe('usage errors', () => {
  it('a mistyped --epsilon suggests --eps, in advtest\'s one-line style', async () => {
    const r = await runCli('eval', '--model', 'm', '--epsilon', '0.1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^advtest: unknown option '--epsilon': did you mean --eps\?/);
    expect(r.stderr).not.toMatch(/--version/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('commander\'s own errors begin with advtest: like advtest\'s', async () => {
    for (const args of [['eval', '--limit'], ['evl'], ['eval', '--backend', 'gpu'], ['grid']]) {
      const r = await runCli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^advtest: /);
      expect(r.stderr, args.join(' ')).not.toMatch(/^error:/m);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const typo = await runCli('evl');
    expect(typo.stderr).toMatch(/did you mean eval\?/);
  });
});
