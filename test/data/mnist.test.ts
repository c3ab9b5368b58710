import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  loadMnist,
  mnistDigitCounts,
  mnistDigitsDir,
  mnistSplitRange,
  mnistTrainCount,
} from '../../src/data/mnist.js';

const PIXELS = 784;

function rawDigit(d: number): number[] {
  const pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  return (JSON.parse(readFileSync(join(dirname(pkg), 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data;
}

describe('loadMnist', () => {
  const train = loadMnist('train');
  const test = loadMnist('test');
  const counts = mnistDigitCounts();

  it('finds the package digits directory', () => {
    expect(mnistDigitsDir()).toMatch(/mnist[/\\]src[/\\]digits$/);
  });

  it('splits each digit at floor(0.8·n): 7,996 train + 2,004 test of the 10,000 bundled digits', () => {
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    const trainSizes = counts.map((n) => Math.floor(0.8 * n));
    expect(counts.map(mnistTrainCount)).toEqual(trainSizes);
    expect(train.size).toBe(trainSizes.reduce((a, b) => a + b, 0));
    expect(train.size).toBe(7996);
    expect(test.size).toBe(2004);
    expect(train.size + test.size).toBe(10_000);
    expect(loadMnist('all').size).toBe(10_000);
  });

  it('has per-digit counts that sum up and are ordered by digit', () => {
    for (let d = 0; d < 10; d++) {
      const inTrain = train.labels.filter((l) => l === d).length;
      const inTest = test.labels.filter((l) => l === d).length;
      expect(inTrain).toBe(mnistTrainCount(counts[d]));
      expect(inTrain + inTest).toBe(counts[d]);
    }
    for (const ds of [train, test]) {
      for (let i = 1; i < ds.size; i++) expect(ds.labels[i]).toBeGreaterThanOrEqual(ds.labels[i - 1]);
    }
  });

  it('describes itself', () => {
    expect(test).toMatchObject({ name: 'mnist', split: 'test', shape: [28, 28, 1], numClasses: 10 });
    expect(test.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(test.images.length).toBe(test.size * PIXELS);
    expect(test.labels.length).toBe(test.size);
    expect(new Set(test.ids).size).toBe(test.size);
    expect(test.ids[0]).toBe('mnist/test/0/0');
    expect(train.ids[train.size - 1]).toBe(`mnist/train/9/${mnistTrainCount(counts[9]) - 1}`);
  });

  it('takes the first train sample of digit 0 from the start of 0.json', () => {
    const raw = rawDigit(0);
    expect(Array.from(train.images.subarray(0, PIXELS))).toEqual(Array.from(Float32Array.from(raw.slice(0, PIXELS))));
  });

  it('starts each digit\'s test part at floor(0.8·n) in the file', () => {
    for (const d of [0, 3, 9]) {
      const raw = rawDigit(d);
      const cut = mnistTrainCount(raw.length / PIXELS);
      const first = test.labels.indexOf(d);
      expect(test.ids[first]).toBe(`mnist/test/${d}/0`);
      const expected = Float32Array.from(raw.slice(cut * PIXELS, (cut + 1) * PIXELS));
      expect(Array.from(test.images.subarray(first * PIXELS, (first + 1) * PIXELS))).toEqual(Array.from(expected));
    }
  });

  it('keeps pixels in [0, 1]', () => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of test.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it('returns fresh arrays on each call (callers may mutate them)', () => {
    const a = loadMnist('test');
    a.images[0] = 0.5;
    expect(loadMnist('test').images[0]).toBe(0);
  });

  it('computes split ranges', () => {
    expect(mnistSplitRange(1001, 'train')).toEqual([0, 800]);
    expect(mnistSplitRange(1001, 'test')).toEqual([800, 1001]);
    expect(mnistSplitRange(1001, 'all')).toEqual([0, 1001]);
    expect(mnistTrainCount(5)).toBe(4);
  });

  it('rejects an unknown split with a UserError', () => {
    expect(() => loadMnist('validation' as 'train')).toThrow(UserError);
    expect(() => loadMnist('validation' as 'train')).toThrow(/"validation".*train, test or all/);
  });
});
