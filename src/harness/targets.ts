import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { deriveSeed, makeRng } from '../tensor/random.js';

/** untargeted, or which class each example should be pushed to. */
export type TargetSpec = 'untargeted' | 'least-likely' | 'random' | number;

export function parseTargetSpec(text: string | undefined, numClasses?: number): TargetSpec {
  if (text === undefined || text === 'untargeted') return 'untargeted';
  if (text === 'least-likely' || text === 'random') return text;
  const label = Number(text);
  if (!Number.isInteger(label) || label < 0 || (numClasses !== undefined && label >= numClasses)) {
    throw new UserError(`--targeted "${text}": use least-likely, random, or a class index${numClasses ? ` in 0..${numClasses - 1}` : ''}`);
  }
  return label;
}

/**
 * Target labels for one batch. "random" draws a class other than the true one from a seed
 * derived from the example's global index, so any sharding of the data gets the same targets.
 */
export function chooseTargets(spec: Exclude<TargetSpec, 'untargeted'>, cleanLogits: tf.Tensor2D, labels: Int32Array, firstIndex: number, seed: number): Int32Array {
  const numClasses = cleanLogits.shape[1];
  const out = new Int32Array(labels.length);
  if (spec === 'least-likely') {
    const least = tf.tidy(() => tf.argMin(cleanLogits, 1).dataSync());
    out.set(least);
  } else if (spec === 'random') {
    for (let i = 0; i < labels.length; i++) {
      const rng = makeRng(deriveSeed(seed, 0x7a4, firstIndex + i));
      out[i] = (labels[i]! + 1 + Math.floor(rng() * (numClasses - 1))) % numClasses;
    }
  } else {
    if (spec >= numClasses) throw new UserError(`--targeted ${spec}: the model has only ${numClasses} classes (0..${numClasses - 1})`);
    out.fill(spec);
  }
  return out;
}

export function describeTarget(spec: TargetSpec): string {
  return typeof spec === 'number' ? `targeted:${spec}` : spec === 'untargeted' ? 'untargeted' : `targeted:${spec}`;
}
