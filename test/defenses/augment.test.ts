import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { augment, cutout, gaussianAugment, parseAugmentations, randomCrop, randomFlip } from '../../defenses/augment.js';
import type { HookContext } from '../../src/train/loop.js';
import type { Rng } from '../../src/tensor/random.js';
import { useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

/** A generator returning the given values in turn. */
function scripted(...values: number[]): Rng {
  let i = 0;
  return () => values[i++ % values.length]!;
}

// One 3×3 single-channel image 1..9.
const image = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
const rowsOf = (t: tf.Tensor) => (t.arraySync() as number[][][][])[0]!.map((r) => r.map((p) => p[0]!));

describe('augmentation', () => {
  beforeAll(useTestBackend);

  it('random crop with padding shifts the image and fills with zeros', () => {
    // pad 1: offsets in {0, 1, 2}; rng 0 → offset 0 (shift down-right), 0.99 → 2 (shift up-left), 0.5 → 1 (identity).
    expect(rowsOf(randomCrop(image(), 1, scripted(0, 0)))).toEqual([[0, 0, 0], [0, 1, 2], [0, 4, 5]]);
    expect(rowsOf(randomCrop(image(), 1, scripted(0.99, 0.99)))).toEqual([[5, 6, 0], [8, 9, 0], [0, 0, 0]]);
    expect(rowsOf(randomCrop(image(), 1, scripted(0.5, 0.5)))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    // dy = 0 (down), dx = 1 (none)
    expect(rowsOf(randomCrop(image(), 1, scripted(0, 0.5)))).toEqual([[0, 0, 0], [1, 2, 3], [4, 5, 6]]);
  });

  it('random flip mirrors left–right exactly the examples drawn below ½', () => {
    const two = tf.concat([image(), image()]);
    const out = randomFlip(two, scripted(0.2, 0.8)).arraySync() as number[][][][];
    expect(out[0]!.map((r) => r.map((p) => p[0]))).toEqual([[3, 2, 1], [6, 5, 4], [9, 8, 7]]);
    expect(out[1]!.map((r) => r.map((p) => p[0]))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  });

  it('cutout zeroes a square around the drawn centre, clipped at the border', () => {
    // centre (0, 0), side 2: rows/cols −1..0 → only pixel (0, 0).
    expect(rowsOf(cutout(image(), 2, scripted(0, 0)))).toEqual([[0, 2, 3], [4, 5, 6], [7, 8, 9]]);
    // centre (1, 1) (rng 0.4·3 → 1), side 3: everything.
    expect(rowsOf(cutout(image(), 3, scripted(0.4, 0.4)))).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  });

  it('Gaussian noise stays in the box and is reproducible by seed', () => {
    const x = tf.fill([4, 5, 5, 1], 0.5) as tf.Tensor4D;
    const a = gaussianAugment(x, 1, 7);
    expect(a.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(a.max().dataSync()[0]).toBeLessThanOrEqual(1);
    expect(Array.from(a.dataSync())).toEqual(Array.from(gaussianAugment(x, 1, 7).dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(gaussianAugment(x, 1, 8).dataSync()));
  });

  it('parses "crop+noise:0.05+cutout" with defaults, and refuses unknown parts', () => {
    expect(parseAugmentations(undefined)).toEqual([{ name: 'crop', value: 2 }]);
    expect(parseAugmentations('crop+noise:0.05+cutout')).toEqual([
      { name: 'crop', value: 2 },
      { name: 'noise', value: 0.05 },
      { name: 'cutout', value: 8 },
    ]);
    expect(() => parseAugmentations('crop+rotate')).toThrow(/use crop, flip, noise, cutout/);
    expect(() => parseAugmentations('crop:1.5')).toThrow(/positive integer/);
    expect(() => parseAugmentations('flip:1')).toThrow(/flip takes no value/);
  });

  it('the defense is seeded by the step: same seed same batch, another seed another batch', async () => {
    const classifier = linearClassifier([[1], [0]], [0, 0], [1, 1, 1]);
    const d = augment(parseAugmentations('crop:1+flip'));
    const x = tf.randomUniform([8, 6, 6, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.zeros([8], 'int32') as tf.Tensor1D;
    const ctx = (seed: number) => ({ classifier, seed }) as unknown as HookContext;
    const a = (await d.batch!({ x, y }, ctx(1))).x.dataSync();
    expect(Array.from((await d.batch!({ x, y }, ctx(1))).x.dataSync())).toEqual(Array.from(a));
    expect(Array.from((await d.batch!({ x, y }, ctx(2))).x.dataSync())).not.toEqual(Array.from(a));
  });
});
