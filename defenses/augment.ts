import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { makeRng, seededNormal, type Rng } from '../src/tensor/random.js';
import type { Defense } from './defense.js';
import { optionParts } from './spec.js';

/**
 * Data augmentation on NHWC tensors, each draw seeded by the step's seed (HookContext.seed), so
 * a run is reproducible. Every function returns a new tensor and leaves its input alone.
 */

/**
 * Random crop with zero padding: pad `pad` pixels on every side, then take an h×w window at a
 * random offset in [0, 2·pad]² per example (the CIFAR recipe of He et al. 2016, §4.2).
 */
export function randomCrop(x: tf.Tensor4D, pad: number, rng: Rng): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    const padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
    const rows = Array.from({ length: n }, (_, i) => {
      const dy = Math.floor(rng() * (2 * pad + 1));
      const dx = Math.floor(rng() * (2 * pad + 1));
      return tf.slice(padded, [i, dy, dx, 0], [1, h, w, c]);
    });
    return tf.concat(rows) as tf.Tensor4D;
  });
}

/** Mirrors each example left–right with probability ½ (wrong for digits and text: off by default). */
export function randomFlip(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const [n] = x.shape;
  return tf.tidy(() => {
    const flip = tf.tensor1d(Array.from({ length: n }, () => (rng() < 0.5 ? 1 : 0)), 'bool');
    return tf.where(tf.broadcastTo(tf.reshape(flip, [n, 1, 1, 1]), x.shape), tf.reverse(x, 2), x) as tf.Tensor4D;
  });
}

/** x + N(0, σ²), clipped to the input box. */
export function gaussianAugment(x: tf.Tensor4D, sigma: number, seed: number, lower = 0, upper = 1): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.add(x, seededNormal(x.shape, 0, sigma, seed)), lower, upper) as tf.Tensor4D);
}

/**
 * Cutout — DeVries & Taylor 2017 (arXiv:1708.04552): zero a size×size square centred on a
 * uniformly drawn pixel; the square may stick out of the image (only its inside is cut).
 */
export function cutout(x: tf.Tensor4D, size: number, rng: Rng): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const mask = new Float32Array(n * h * w).fill(1);
  for (let i = 0; i < n; i++) {
    const cy = Math.floor(rng() * h);
    const cx = Math.floor(rng() * w);
    const top = cy - Math.floor(size / 2);
    const left = cx - Math.floor(size / 2);
    for (let r = Math.max(0, top); r < Math.min(h, top + size); r++) {
      for (let col = Math.max(0, left); col < Math.min(w, left + size); col++) mask[(i * h + r) * w + col] = 0;
    }
  }
  return tf.tidy(() => tf.mul(x, tf.tensor4d(mask, [n, h, w, 1])) as tf.Tensor4D);
}

export type AugmentationName = 'crop' | 'flip' | 'noise' | 'cutout';
export const AUGMENTATIONS: Record<AugmentationName, { parameter: string; default: number }> = {
  crop: { parameter: 'padding in pixels', default: 2 },
  flip: { parameter: 'none', default: 0 },
  noise: { parameter: 'σ', default: 0.1 },
  cutout: { parameter: 'square side in pixels', default: 8 },
};

export interface Augmentation {
  name: AugmentationName;
  value: number;
}

/**
 * Parses "crop+noise:0.05+cutout:8" (default: crop). Each part is a name with an optional
 * ":value" (crop padding 2, noise σ 0.1, cutout side 8).
 */
export function parseAugmentations(text: string | undefined): Augmentation[] {
  // Empty parts ("crop+") are skipped, as they always were here.
  return optionParts(text ?? 'crop').filter(({ part }) => part !== '').map(({ part, key: name, raw, value }) => {
    const known = AUGMENTATIONS[name as AugmentationName];
    if (!known) throw new UserError(`augment "${part}": use ${Object.keys(AUGMENTATIONS).join(', ')} joined by +, e.g. augment=crop+noise:0.1`);
    if (raw === undefined) return { name: name as AugmentationName, value: known.default };
    const integer = name === 'crop' || name === 'cutout';
    if (name === 'flip' || !(value > 0) || (integer && !Number.isInteger(value))) {
      throw new UserError(`augment "${part}": ${name === 'flip' ? 'flip takes no value' : `${name} takes a positive ${integer ? 'integer ' : ''}${known.parameter}`}`);
    }
    return { name: name as AugmentationName, value };
  });
}

/** The augmentations in the order given, each with its own stream from the step's seed. */
export function augment(augmentations: Augmentation[]): Defense {
  const spec = augmentations.map((a) => (a.name === 'flip' || a.value === AUGMENTATIONS[a.name].default ? a.name : `${a.name}:${a.value}`)).join('+');
  return {
    name: `augment=${spec}`,
    stage: 'augment',
    batch: (b, ctx) => {
      let x = b.x;
      augmentations.forEach((a, k) => {
        const seed = ctx.seed * 31 + k;
        const rng = makeRng(`augment:${seed}`);
        const { lower, upper } = ctx.classifier.bounds;
        const next =
          a.name === 'crop' ? randomCrop(x, a.value, rng) : a.name === 'flip' ? randomFlip(x, rng) : a.name === 'noise' ? gaussianAugment(x, a.value, seed, lower, upper) : cutout(x, a.value, rng);
        if (x !== b.x) x.dispose();
        x = next;
      });
      return { ...b, x };
    },
    describe: () => ({ augmentations }),
  };
}
