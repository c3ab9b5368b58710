import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { deriveSeed, exampleSeeds, makeRng, permutation, seededNormal } from '../../src/tensor/random.js';

describe('seeds', () => {
  it('depend on the base seed and on every part', () => {
    expect(deriveSeed(5, 1, 2)).not.toBe(deriveSeed(6, 1, 2));
    expect(deriveSeed(5, 1, 2)).not.toBe(deriveSeed(5, 2, 1));
    expect(deriveSeed(5, 1, 2)).toBe(deriveSeed(5, 1, 2));
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => deriveSeed(0, i)));
    expect(seeds.size).toBe(1000);
  });

  it('give each example a seed from its global index', () => {
    expect(exampleSeeds(3, 2, Int32Array.from([10, 11]))).toEqual([deriveSeed(3, 10), deriveSeed(3, 11)]);
  });

  it('shuffle reproducibly', () => {
    expect(Array.from(permutation(10, makeRng(1)))).toEqual(Array.from(permutation(10, makeRng(1))));
    expect(Array.from(permutation(10, makeRng(1)))).not.toEqual(Array.from(permutation(10, makeRng(2))));
    expect([...permutation(10, makeRng(1))].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('draw the same normal noise for the same seed, 0 included (tf.randomNormal ignores a seed of 0)', () => {
    const draw = (f: () => tf.Tensor) => tf.tidy(() => Array.from(f().dataSync()));
    expect(draw(() => seededNormal([64], 0, 1, 0))).toEqual(draw(() => seededNormal([64], 0, 1, 0)));
    expect(draw(() => seededNormal([64], 0, 1, 0))).not.toEqual(draw(() => seededNormal([64], 0, 1, 1)));
    expect(draw(() => seededNormal([64], 0, 1, 7))).toEqual(draw(() => tf.randomNormal([64], 0, 1, 'float32', 7)));
    // What seededNormal works around: tfjs draws a fresh stream for seed 0.
    expect(draw(() => tf.randomNormal([64], 0, 1, 'float32', 0))).not.toEqual(draw(() => tf.randomNormal([64], 0, 1, 'float32', 0)));
  });
});
