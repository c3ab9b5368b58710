import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { withInputTransform, type InputTransform, type TransformedClassifier } from '../src/model/input-transform.js';
import type { Classifier } from '../src/types.js';
import { jpegClassifier, jpegTransform } from './jpeg.js';
import { medianSmoothing } from './median.js';

/**
 * Bit-depth reduction (feature squeezing, Xu, Evans & Qi, NDSS 2018): x ← round(x·(2^b − 1))/(2^b − 1)
 * on [0, 1] inputs. Its gradient is zero almost everywhere: attack it with BPDA.
 */
export function bitDepth(bits: number): InputTransform {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new UserError(`bit-depth ${bits}: give an integer number of bits in 1..16`);
  const levels = 2 ** bits - 1;
  return {
    name: `bit-depth=${bits}`,
    randomized: false,
    apply: (x) => tf.tidy(() => tf.div(tf.round(tf.mul(x, levels)), levels) as tf.Tensor4D),
  };
}

/**
 * Gaussian noise injection (a randomised defense): x ← x + N(0, σ²). Each call draws new noise from
 * a seeded sequence, so a run is reproducible; attack it with EOT.
 */
export function gaussianNoise(sigma: number, seed = 0): InputTransform {
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new UserError(`noise ${sigma}: give a positive standard deviation, e.g. noise=0.1`);
  let calls = 0;
  return {
    name: `noise=${sigma}`,
    randomized: true,
    apply: (x) => tf.tidy(() => tf.add(x, tf.randomNormal(x.shape, 0, sigma, 'float32', seed * 7919 + calls++)) as tf.Tensor4D),
  };
}

/** Parses "bit-depth=3" / "noise=0.1" / "median=2" / "jpeg=75". */
export function parseInputTransform(spec: string, seed = 0): InputTransform {
  const [name, value] = spec.split('=');
  const v = Number(value);
  if (name === 'bit-depth') return bitDepth(v);
  if (name === 'noise') return gaussianNoise(v, seed);
  if (name === 'median') return medianSmoothing(v);
  if (name === 'jpeg') return jpegTransform(v);
  throw new UserError(`--transform "${spec}": use bit-depth=B, noise=SIGMA, median=K or jpeg=QUALITY`);
}

/**
 * The classifier behind the transform of a --transform spec: the one builder for eval, workers,
 * bench, baseline/check and image regeneration, so that all judge the same model. JPEG gets its
 * sharp query (the harness judges with the real codec); the others are plain withInputTransform
 * wrappers.
 */
export function withTransformSpec(base: Classifier, spec: string, seed = 0): TransformedClassifier {
  const transform = parseInputTransform(spec, seed);
  return spec.startsWith('jpeg=') ? jpegClassifier(base, Number(spec.slice(5))) : withInputTransform(base, transform);
}
