import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier } from '../types.js';

/**
 * What a model expects of its input, given that pixels are always [0, 1] per channel (what an
 * image file decodes to, and where ε is stated and checked). Applied in this order:
 *  1. channelOrder 'bgr': the channels are reversed (pixels are RGB);
 *  2. range: x ↦ lower + x·(upper − lower) (default [0, 1]: unchanged);
 *  3. mean / std (per channel, in the model's channel order and in the units of `range`):
 *     x ↦ (x − mean) / std.
 * E.g. Keras "caffe" style is { range: [0, 255], channelOrder: 'bgr', mean: [103.939, 116.779, 123.68] };
 * torchvision style is { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }.
 */
export interface Preprocessing {
  range?: Bounds;
  mean?: number[];
  std?: number[];
  channelOrder?: 'rgb' | 'bgr';
}

const PIXELS: Bounds = { lower: 0, upper: 1 };

function sameBounds(a: Bounds, b: Bounds): boolean {
  return a.lower === b.lower && a.upper === b.upper;
}

/** True when the preprocessing leaves [0, 1] RGB pixels unchanged. */
export function isIdentityPreprocessing(p: Preprocessing): boolean {
  return (p.range === undefined || sameBounds(p.range, PIXELS)) && p.mean === undefined && p.std === undefined && (p.channelOrder ?? 'rgb') === 'rgb';
}

const FLAGS = { range: '--input-range', mean: '--mean', std: '--std', channelOrder: '--channel-order' } as const;

/**
 * Checks a preprocessing against a model with `channels` input channels. `source` says where it
 * came from so that the message points at it: 'cli' names the flags (--mean …), any other text
 * is a prefix ("m/metadata.json").
 */
export function validatePreprocessing(p: Preprocessing, channels: number, source = 'preprocessing'): void {
  const field = (name: keyof typeof FLAGS) => (source === 'cli' ? FLAGS[name] : `${source}: ${name}`);
  if (p.range !== undefined) {
    const { lower, upper } = p.range;
    if (!Number.isFinite(lower) || !Number.isFinite(upper) || !(lower < upper)) {
      throw new UserError(`${field('range')} [${lower}, ${upper}] is not an interval: give lower < upper, e.g. 0,1 or -1,1 or 0,255`);
    }
  }
  for (const name of ['mean', 'std'] as const) {
    const values = p[name];
    if (values === undefined) continue;
    if (values.length !== channels) {
      throw new UserError(`${field(name)} ${values.join(',')} has ${values.length} value${values.length === 1 ? '' : 's'} but the model takes ${channels} channel${channels === 1 ? '' : 's'}: give one ${name} per channel`);
    }
    if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new UserError(`${field(name)} ${values.join(',')} is not a list of numbers: give one number per channel, e.g. 0.5,0.5,0.5`);
  }
  if (p.std?.some((v) => v <= 0)) throw new UserError(`${field('std')} ${p.std.join(',')} has a value ≤ 0: standard deviations must be positive`);
  if (p.channelOrder !== undefined && p.channelOrder !== 'rgb' && p.channelOrder !== 'bgr') {
    throw new UserError(`${field('channelOrder')} "${String(p.channelOrder)}": give rgb or bgr`);
  }
  if (p.channelOrder === 'bgr' && channels !== 3) throw new UserError(`${field('channelOrder')} bgr needs 3 channels but the model takes ${channels}: drop the channel order`);
}

/** One line for reports, e.g. "rgb→bgr; [0,1]→[0,255]; (x − [103.9,116.8,123.7]) / 1". */
export function describePreprocessing(p: Preprocessing): string {
  if (isIdentityPreprocessing(p)) return 'none (the model takes [0, 1] pixels)';
  const steps: string[] = [];
  if (p.channelOrder === 'bgr') steps.push('RGB→BGR');
  if (p.range !== undefined && !sameBounds(p.range, PIXELS)) steps.push(`[0, 1]→[${p.range.lower}, ${p.range.upper}]`);
  if (p.mean !== undefined || p.std !== undefined) steps.push(`(x − [${(p.mean ?? []).join(', ') || '0'}]) / [${(p.std ?? []).join(', ') || '1'}]`);
  return steps.join('; ');
}

/** The model's input for [0, 1] RGB pixels: differentiable (a permutation and an affine map). */
export function applyPreprocessing(x: tf.Tensor4D, p: Preprocessing): tf.Tensor4D {
  return tf.tidy(() => {
    let y: tf.Tensor4D = x;
    if (p.channelOrder === 'bgr') y = tf.reverse(y, 3);
    if (p.range !== undefined && !sameBounds(p.range, PIXELS)) y = tf.add(tf.mul(y, p.range.upper - p.range.lower), p.range.lower);
    if (p.mean !== undefined) y = tf.sub(y, tf.tensor1d(p.mean));
    if (p.std !== undefined) y = tf.div(y, tf.tensor1d(p.std));
    // tidy keeps the result; when nothing applied it is the caller's own tensor, returned as is.
    return y;
  });
}

/**
 * The classifier on [0, 1] pixels: its preprocessing becomes the first, differentiable step of
 * `logits` (and `query`), so that attacks, ε and the 8-bit grid are all in pixel space. A base
 * whose bounds are not [0, 1] (advtest metadata "bounds": [-1, 1]) takes that range unless
 * `p.range` says otherwise.
 */
export function withPreprocessing(base: Classifier, p: Preprocessing, source?: string): Classifier {
  const full: Preprocessing = { ...p, ...(p.range === undefined && !sameBounds(base.bounds, PIXELS) ? { range: base.bounds } : {}) };
  validatePreprocessing(full, base.inputShape[2], source);
  const identity = isIdentityPreprocessing(full);
  const description = describePreprocessing(full);
  const pre = (x: tf.Tensor4D) => applyPreprocessing(x, full);
  const baseQuery = base.query?.bind(base);
  return {
    bounds: { ...PIXELS },
    inputShape: base.inputShape,
    numClasses: base.numClasses,
    ...(base.classNames ? { classNames: base.classNames } : {}),
    ...(base.gradientUnavailable !== undefined ? { gradientUnavailable: base.gradientUnavailable } : {}),
    logits: identity ? (x) => base.logits(x) : (x) => tf.tidy(() => base.logits(pre(x))),
    ...(baseQuery
      ? {
          query: identity
            ? baseQuery
            : async (x: tf.Tensor4D) => {
                const y = pre(x);
                try {
                  return await baseQuery(y);
                } finally {
                  y.dispose();
                }
              },
        }
      : {}),
    dispose: () => base.dispose?.(),
    // Every report names the preprocessing, "none" included, so that a reader knows what ε means.
    describe: () => ({ ...base.describe?.(), preprocessing: description }),
  };
}
