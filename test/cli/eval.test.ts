import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { runCli } from '../helpers/cli.js';

const MODEL = fixtureModelPath('mnist-cnn');

describe('advtest eval', () => {
  it('prints the table and writes the same report as JSON', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-eval-'));
    const file = path.join(dir, 'report.json');
    const r = await runCli('eval', '--model', MODEL, '--limit', '40', '--eps', '0.1,8/255', '--json', file, '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/clean accuracy: .*\(\d+\/40\)/);
    expect(r.stdout).toMatch(/8\/255/);
    expect(r.stdout).toMatch(/backend: wasm \(tfjs [\d.]+, advtest gradient kernels, \d threads?\)/);
    const report = JSON.parse(await readFile(file, 'utf8')) as Report;
    expect(report.data).toMatchObject({ name: 'mnist', split: 'test', size: 40, subset: 'class-balanced subset of 40' });
    expect(report.config.epsilons).toEqual([0.1, 8 / 255]);
    expect(report.backend.name).toBe('wasm');
    expect(report.backend.threads).toBeGreaterThanOrEqual(1);
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('evaluates the training split with --split train (other digits, named in the report), with 2 workers too', async () => {
    const run = async (...extra: string[]) => {
      const r = await runCli('eval', '--model', MODEL, '--limit', '30', '--eps', '0.1', '--json', '--quiet', ...extra);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Report;
    };
    const [test, train, trainWorkers] = [await run(), await run('--split', 'train', '--workers', '1'), await run('--split', 'train', '--workers', '2', '--batch-size', '10')];
    expect(train.data).toMatchObject({ split: 'train', size: 30 });
    expect(train.data.fingerprint).not.toBe(test.data.fingerprint);
    expect(trainWorkers.data.fingerprint).toBe(train.data.fingerprint);
    expect(trainWorkers.examples.ids).toEqual(train.examples.ids);
    expect(trainWorkers.examples.results).toEqual(train.examples.results);
  });

  it('takes an L2 ε above the input range (a length, not a value): --norm l2 --eps 1.5', async () => {
    const r = await runCli('eval', '--model', MODEL, '--limit', '5', '--attack', 'pgd', '--steps', '2', '--norm', 'l2', '--eps', '1.5', '--json', '--quiet');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).results.map((x) => x.eps)).toEqual([1.5]);
  });

  it('prints JSON on stdout with a bare --json', async () => {
    const r = await runCli('eval', '--model', MODEL, '--limit', '10', '--eps', '0.1', '--json', '--quiet');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).clean.n).toBe(10);
  });

  it.each([
    [['--eps', 'abc'], /--eps "abc" is not a number/],
    [['--eps', '-0.1'], /negative/],
    [['--eps', 'NaN'], /not a number/],
    [['--eps', '8'], /exceeds the model's input range.*8\/255/],
    // An L2 ε is a length: up to range·√784 = 28 on MNIST, so 1.5 runs (next test) and 30 is refused.
    [['--attack', 'pgd', '--norm', 'l2', '--eps', '30'], /--eps 30 with an L2 attack exceeds .*28\.0/],
    [['--attack', 'nope'], /unknown attack "nope"/],
    [['--data', 'imagenet'], /imagenet/],
    [['--limit', '0'], /--limit "0" must be a positive integer/],
    [['--split', 'validation'], /--split.*validation.*choices are test, train|validation.*test, train/],
  ])('refuses %j with exit code 2 and one clear line', async (extra, message) => {
    const r = await runCli('eval', '--model', MODEL, '--quiet', ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a missing model folder with exit code 2', async () => {
    const r = await runCli('eval', '--model', '/nonexistent/model', '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read \/nonexistent\/model\/model.json/);
  });

  it('answers an unknown command with exit code 2', async () => {
    const r = await runCli('frobnicate');
    expect(r.code).toBe(2);
  });
});

describe('usage errors', () => {
  it.each([['eval', '--backend', 'nope'], ['train', '--no-such-option'], ['attack', '--model']])('exit with code 2: %j', async (...args) => {
    const r = await runCli(...args);
    expect(r.code).toBe(2);
  });
});
