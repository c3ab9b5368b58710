import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { Dataset } from '../../src/types.js';
import {
  balancedIndices,
  balancedSubset,
  classCounts,
  exampleLength,
  fingerprint,
  imageAt,
  subset,
} from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';

/** 2×1×1 images whose pixels encode the example index; labels as given. */
function tiny(labels: number[], numClasses: number): Dataset {
  const size = labels.length;
  const images = new Float32Array(size * 2);
  for (let i = 0; i < size; i++) images.set([i / 100, i / 100 + 0.005], i * 2);
  return {
    name: 'tiny',
    split: 'test',
    shape: [2, 1, 1],
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, k) => `c${k}`),
    size,
    images,
    labels: Int32Array.from(labels),
    ids: labels.map((_, i) => `tiny/${i}`),
  };
}

describe('subset', () => {
  it('copies the chosen examples in order, repeats allowed', () => {
    const ds = tiny([0, 1, 2, 0, 1], 3);
    const s = subset(ds, [4, 0, 4]);
    expect(s.size).toBe(3);
    expect(Array.from(s.labels)).toEqual([1, 0, 1]);
    expect(s.ids).toEqual(['tiny/4', 'tiny/0', 'tiny/4']);
    expect(Array.from(s.images)).toEqual(Array.from(Float32Array.from([0.04, 0.045, 0, 0.005, 0.04, 0.045])));
    s.images[0] = 1;
    expect(ds.images[8]).toBeCloseTo(0.04);
    expect(s.classNames).toEqual(ds.classNames);
  });

  it('rejects out-of-range and fractional indices', () => {
    const ds = tiny([0, 1], 2);
    expect(() => subset(ds, [2])).toThrow(UserError);
    expect(() => subset(ds, [2])).toThrow(/index 2 is out of range for tiny\/test \(2 examples\)/);
    expect(() => subset(ds, [-1])).toThrow(UserError);
    expect(() => subset(ds, [0.5])).toThrow(UserError);
  });
});

describe('balancedSubset', () => {
  const mnist = loadMnist('test');

  it('takes 10 per class from MNIST for n = 100, identically every time', () => {
    const a = balancedSubset(mnist, 100);
    const b = balancedSubset(loadMnist('test'), 100);
    expect(classCounts(a)).toEqual(new Array(10).fill(10));
    expect(a.ids).toEqual(b.ids);
    expect(fingerprint(a)).toBe(fingerprint(b));
  });

  it('round-robins over classes taking each class in dataset order', () => {
    const idx = balancedIndices(mnist, 12);
    expect(Array.from(idx, (i) => mnist.labels[i])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(mnist.ids[idx[0]]).toBe('mnist/test/0/0');
    expect(mnist.ids[idx[10]]).toBe('mnist/test/0/1');
  });

  it('is prefix-stable: smaller n gives a prefix of larger n', () => {
    expect(balancedIndices(mnist, 37)).toEqual(balancedIndices(mnist, 250).slice(0, 37));
  });

  it('continues with the other classes when one runs out', () => {
    const ds = tiny([0, 0, 0, 0, 1, 2, 2], 3);
    expect(balancedIndices(ds, 7)).toEqual([0, 4, 5, 1, 6, 2, 3]);
    expect(balancedIndices(ds, 5)).toEqual([0, 4, 5, 1, 6]);
    expect(balancedIndices(ds, 0)).toEqual([]);
  });

  it('rejects n larger than the dataset', () => {
    const ds = tiny([0, 1], 2);
    expect(() => balancedSubset(ds, 3)).toThrow(UserError);
    expect(() => balancedSubset(ds, 3)).toThrow(/cannot take 3 examples from tiny\/test, which has 2/);
    expect(() => balancedSubset(ds, -1)).toThrow(UserError);
  });
});

describe('fingerprint', () => {
  it('is a sha256 hex that changes with pixels, labels and shape only', () => {
    const ds = tiny([0, 1, 0], 2);
    const fp = fingerprint(ds);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint({ ...ds, name: 'other', ids: ['a', 'b', 'c'] })).toBe(fp);
    const pixels = Float32Array.from(ds.images);
    pixels[3] += 1e-6;
    expect(fingerprint({ ...ds, images: pixels })).not.toBe(fp);
    expect(fingerprint({ ...ds, labels: Int32Array.from([0, 1, 1]) })).not.toBe(fp);
    expect(fingerprint({ ...ds, shape: [1, 2, 1] })).not.toBe(fp);
  });

  it('hashes views by their own bytes', () => {
    const ds = tiny([0, 1, 0], 2);
    const s = subset(ds, [1, 2]);
    const buffer = new Float32Array(10);
    buffer.set(s.images, 3);
    const view = { ...s, images: buffer.subarray(3, 3 + s.images.length) };
    expect(fingerprint(view)).toBe(fingerprint(s));
  });
});

describe('imageAt / exampleLength / classCounts', () => {
  it('views one example', () => {
    const ds = tiny([0, 1, 1], 2);
    expect(exampleLength(ds)).toBe(2);
    expect(Array.from(imageAt(ds, 2))).toEqual(Array.from(Float32Array.from([0.02, 0.025])));
    expect(classCounts(ds)).toEqual([1, 2]);
    expect(() => imageAt(ds, 3)).toThrow(UserError);
  });
});
