import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** Issue 18, items 7, 12 and 14: the whole bench config is checked before anything trains. */
const GOOD = {
  data: 'mnist',
  train: { arch: 'mlp', epochs: 1, batchSize: 64, seed: 0, holdout: 0 },
  eval: { attack: 'fgsm', eps: [0.1], limit: 20, seed: 0 },
  entries: [{ name: 'standard' }, { name: 'second', defense: 'label-smoothing=0.1' }],
};

async function bench(config: unknown, ...extra: string[]) {
  const dir = await mkdtemp(path.join(tmpdir(), 'advtest-bench-check-'));
  const file = path.join(dir, 'bench.json');
  await writeFile(file, JSON.stringify(config));
  const out = path.join(dir, 'results');
  const r = await runCli('bench', '--config', file, '--out', out, '--workers', '1', ...extra);
  return { ...r, dir, out };
}

const withEntry = (entry: Record<string, unknown>) => ({ ...GOOD, entries: [...GOOD.entries, entry] });

describe('advtest bench refuses a bad config before training anything', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown defense in the last entry', withEntry({ name: 'bad', defense: 'fgsm-att' }), /entry "bad": unknown defense "fgsm-att"/],
    ['a bad defense value', withEntry({ name: 'bad', defense: 'label-smoothing=abc' }), /entry "bad": .*label-smoothing/],
    ['an unknown transform', withEntry({ name: 'bad', transform: 'blur=3' }), /entry "bad": --transform "blur=3"/],
    ['an unknown architecture', withEntry({ name: 'bad', arch: 'resnet' }), /entry "bad": unknown architecture "resnet"/],
    ['an ensemble member of an impossible template', withEntry({ name: 'bad', ensemble: [{ arch: 'template-9x16' }] }), /entry "bad": template depth 9/],
    ['a train attack without adversarial training', withEntry({ name: 'bad', trainAttack: 'pgd' }), /entry "bad": trainAttack.*add fgsm-at/],
    ['an unknown attack', { ...GOOD, eval: { ...GOOD.eval, attack: 'fgsm,pgdd' } }, /unknown attack "pgdd"/],
    ['ε above the input range', { ...GOOD, eval: { ...GOOD.eval, eps: [0.1, 8] } }, /\/eval\/eps 8 exceeds the input range of the images \(1\)/],
    ['a training ε above the input range', withEntry({ name: 'bad', defense: 'fgsm-at', trainEps: 30 }), /entry "bad": trainEps 30 exceeds the input range/],
    ['data that cannot be loaded', { ...GOOD, data: 'folder:/nonexistent-advtest-data' }, /nonexistent-advtest-data/],
    ['an entry named ..', withEntry({ name: '..' }), /entry name "\.\." is not a file name/],
    ['an entry named .', withEntry({ name: '.' }), /entry name "\." is not a file name/],
    ['a bad trainStepSize (the entry is named though no entry asks for examples)', withEntry({ name: 'bad', defense: 'pgd-at', trainStepSize: 'abc' }), /entry "bad": --step-size "abc"/],
    ['more examples than the training split keeps', withEntry({ name: 'bad', examples: 99999, holdout: 200 }), /entry "bad": cannot train on 99999 examples: the training split has \d+, \d+ once the 200 held out for the monitor are set aside: use at most \d+/],
    ['training digits evaluated beyond the examples trained on', { ...GOOD, eval: { ...GOOD.eval, trainLimit: 20 }, entries: [...GOOD.entries, { name: 'bad', examples: 10 }] }, /entry "bad": \/eval\/trainLimit 20 is above its examples 10: .*lower \/eval\/trainLimit to 10 or raise examples/],
  ];
  for (const [what, config, message] of cases) {
    it(`${what}: one line, exit 2, nothing trained or written`, async () => {
      const r = await bench(config);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/: training/);
      expect(await readdir(r.dir)).toEqual(['bench.json']);
    });
  }

  it('an unknown --only name leaves no empty out/entries behind', async () => {
    const r = await bench(GOOD, '--only', 'standard,nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--only nope: no such entry/);
    expect(existsSync(r.out)).toBe(false);
  });

  it('an invalid config points at an example config that exists in the package', async () => {
    const r = await bench({ ...GOOD, entries: [{ name: 'x', epochz: 3 }] });
    expect(r.code).toBe(2);
    const example = /see (\S+defenses\.json) for the format/.exec(r.stderr)?.[1];
    expect(example, r.stderr).toBeDefined();
    expect(path.isAbsolute(example!)).toBe(true);
    expect(existsSync(example!)).toBe(true);
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('fixtures/bench/defenses.json');
  });
});

describe('advtest bench training cache', () => {
  it('changing only eval.limit re-evaluates the saved models without training them again', async () => {
    const config = { ...GOOD, entries: [GOOD.entries[0]!] };
    const first = await bench(config);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/standard: training/);
    const weights = path.join(first.out, 'models', 'standard', 'weights.bin');
    const before = (await stat(weights)).mtimeMs;
    const file = path.join(first.dir, 'bench.json');
    await writeFile(file, JSON.stringify({ ...config, eval: { ...config.eval, limit: 30 } }));
    const second = await runCli('bench', '--config', file, '--out', first.out, '--workers', '1');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/standard: training/);
    expect(second.stderr).toMatch(/standard: model trained in an earlier run/);
    expect((await stat(weights)).mtimeMs).toBe(before);
    const entry = JSON.parse(await readFile(path.join(first.out, 'entries', 'standard.json'), 'utf8')) as { report: { data: { size: number } }; trainingSeconds: number };
    expect(entry.report.data.size).toBe(30);
    expect(entry.trainingSeconds).toBeGreaterThan(0);

    // A training setting changes: trained again.
    await writeFile(file, JSON.stringify({ ...config, train: { ...config.train, seed: 1 } }));
    const third = await runCli('bench', '--config', file, '--out', first.out, '--workers', '1');
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/standard: training/);
  }, 300_000);
});
