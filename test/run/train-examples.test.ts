import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { balancedIndices, classCounts } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { checkTrainingExamples, trainingSplit } from '../../src/run/train.js';
import type { Dataset } from '../../src/types.js';
import { trainingKey } from '../../src/leaderboard/run.js';
import type { BenchConfig } from '../../src/leaderboard/config.js';
import { runCli } from '../helpers/cli.js';

/** `--examples` (and a bench entry's "examples"): data-scaling studies train on a class-balanced subset. */
const split = loadMnist('train').size;

describe('trainingSplit', () => {
  const full = loadMnist('train');
  const ids = (d: Dataset) => d.ids;

  it('holds out the monitor\'s examples from the whole split, then takes the first n class-balanced of the rest', () => {
    const fifty = trainingSplit(full, { examples: 50, holdout: 20, seed: 3 });
    const twenty = trainingSplit(full, { examples: 20, holdout: 20, seed: 3 });
    const all = trainingSplit(full, { holdout: 20, seed: 3 });
    expect(fifty.train.size).toBe(50);
    expect(classCounts(fifty.train)).toEqual(Array(10).fill(5));
    expect(all.train.size).toBe(split - 20);
    // The same held-out examples for every size, none of them trained on.
    expect(ids(fifty.heldOut!)).toEqual(ids(all.heldOut!));
    expect(ids(twenty.heldOut!)).toEqual(ids(all.heldOut!));
    const held = new Set(ids(all.heldOut!));
    expect(ids(fifty.train).filter((id) => held.has(id))).toEqual([]);
    // Nested: the 20 are the first 20 of the 50, which are among the rest.
    expect(ids(twenty.train)).toEqual(ids(fifty.train).slice(0, 20));
    const rest = new Set(ids(all.train));
    expect(ids(fifty.train).every((id) => rest.has(id))).toBe(true);
    // Without a monitor, the first n of the whole split.
    expect(ids(trainingSplit(full, { examples: 30, seed: 3 }).train)).toEqual(balancedIndices(full, 30).map((i) => full.ids[i]));
  });

  it('refuses a hold-out that leaves nothing to train on', () => {
    expect(() => trainingSplit(full, { examples: 10, holdout: split, seed: 0 })).toThrow(`cannot hold out ${split} of the ${split} training examples`);
    expect(() => checkTrainingExamples({ examples: 10, holdout: split + 5 }, split)).toThrow(`cannot hold out ${split + 5} of the ${split} training examples: give a count from 1 to ${split - 1}`);
  });
});

describe('advtest train --examples', () => {
  it('trains on the first n class-balanced examples left after the held-out ones, and records n', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-examples-')), 'm');
    const r = await runCli('train', '--arch', 'mlp', '--epochs', '1', '--examples', '50', '--holdout', '20', '--defense', 'fgsm-at', '--train-eps', '0.1', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/on 50 mnist examples/);
    // One epoch of batch 64 over 50 examples is one step: the held-out monitor still has its 20.
    expect(r.stderr).toMatch(/\(n=20\)/);
    const meta = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')).userDefinedMetadata.advtest.training;
    expect(meta.examples).toBe(50);
  });

  it.each([
    ['more than the split keeps after the held-out ones', ['--examples', String(split - 199), '--holdout', '200'], new RegExp(`cannot train on ${split - 199} examples: the training split has ${split}, ${split - 200} once the 200 held out for the monitor are set aside: use at most ${split - 200}`)],
    ['more than the split', ['--examples', String(split + 1), '--holdout', '0'], new RegExp(`cannot train on ${split + 1} examples: the training split has ${split}: use at most ${split}`)],
    ['zero', ['--examples', '0'], /--examples/],
    ['a fraction', ['--examples', '0.5'], /--examples/],
  ])('refuses %s with exit 2 and writes nothing', async (_what, args, message) => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-examples-')), 'm');
    const r = await runCli('train', '--arch', 'mlp', '--epochs', '1', ...args, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.checkpoint`)).toBe(false);
  });
});

describe('a bench entry\'s "examples"', () => {
  const config: BenchConfig = { data: 'mnist', train: { arch: 'mlp', epochs: 1, holdout: 0 }, eval: { attack: 'fgsm', eps: [0.1], limit: 20 }, entries: [{ name: 'all' }] };

  it('is part of the training key (a different size trains again), and its absence keeps the key it had', () => {
    const all = trainingKey(config, { name: 'all' });
    // As before "examples" existed (computed at 5628665): models saved then are not trained again.
    expect(all).toBe('0c5d987027033b6be569e45141a9bf0b8a2a0ff5cf33575729b710b178916c2b');
    expect(trainingKey(config, { name: 'all', examples: 100 })).not.toBe(all);
    expect(trainingKey(config, { name: 'all', examples: 100 })).not.toBe(trainingKey(config, { name: 'all', examples: 200 }));
    expect(trainingKey({ ...config, train: { ...config.train, examples: 100 } }, { name: 'all' })).toBe(trainingKey(config, { name: 'all', examples: 100 }));
  });

  it('is refused before anything trains when the split cannot give it, naming the entry', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-bench-examples-'));
    const file = path.join(dir, 'bench.json');
    await writeFile(file, JSON.stringify({ ...config, entries: [{ name: 'small', examples: 30 }, { name: 'too-many', examples: split + 1 }] }));
    const out = path.join(dir, 'results');
    const r = await runCli('bench', '--config', file, '--out', out, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`entry "too-many": cannot train on ${split + 1} examples: the training split has ${split}: use at most ${split}`));
    expect(existsSync(out)).toBe(false);
  });

  it('trains each entry on its examples, records them in its result (entries of an earlier run too) and draws them on the page', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-bench-examples-'));
    const file = path.join(dir, 'bench.json');
    await writeFile(file, JSON.stringify({ ...config, eval: { ...config.eval, trainLimit: 20 }, entries: [{ name: 'small', examples: 30 }, { name: 'all' }] }));
    const out = path.join(dir, 'results');
    const html = path.join(dir, 'board.html');
    const entryFile = (name: string) => path.join(out, 'entries', `${name}.json`);
    const examples = async (name: string) => (JSON.parse(await readFile(entryFile(name), 'utf8')) as { trainingExamples?: number }).trainingExamples;
    const r = await runCli('bench', '--config', file, '--out', out, '--quiet', '--html', html);
    expect(r.code, r.stderr).toBe(0);
    expect(await examples('small')).toBe(30);
    expect(await examples('all')).toBe(split);
    const meta = JSON.parse(await readFile(path.join(out, 'models', 'small', 'model.json'), 'utf8')).userDefinedMetadata.advtest.training;
    expect(meta.examples).toBe(30);
    expect(await readFile(html, 'utf8')).toMatch(/<section id="data"><h2>Robustness against training examples<\/h2><figure class="chart"><svg/);
    // A result saved without the count (by a version before it) is shown with it: it comes from the config.
    const saved = JSON.parse(await readFile(entryFile('small'), 'utf8')) as Record<string, unknown>;
    delete saved.trainingExamples;
    await writeFile(entryFile('small'), JSON.stringify(saved));
    const again = await runCli('bench', '--config', file, '--out', out, '--html', html);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/small: done in an earlier run/);
    expect(again.stderr).not.toMatch(/training/);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('>30</text>');
    expect(page).toContain(`>${split.toLocaleString('en-US')}</text>`);
  });
});
