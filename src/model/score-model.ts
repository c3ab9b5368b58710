import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier, ImageShape } from '../types.js';

/** Scores for a batch of n images given as n·h·w·c values in the model's range. */
export type ScoreFunction = (images: Float32Array, shape: [number, ...ImageShape]) => Promise<ArrayLike<number>[] | Float32Array>;

export interface ScoreModelOptions {
  inputShape: ImageShape;
  numClasses: number;
  bounds?: Bounds;
  name?: string;
  /** 'probabilities' are turned into log-probabilities so that margins behave like logit margins. */
  outputs?: 'logits' | 'probabilities';
}

/**
 * A black-box classifier: any async function from images to class scores (a remote model, a
 * model in another runtime). It has no gradient; score-based attacks (square) query it.
 */
export function scoreClassifier(fn: ScoreFunction, options: ScoreModelOptions): Classifier {
  const { inputShape, numClasses } = options;
  const name = options.name ?? 'score function';
  const reason = `${name} is a score-only model`;
  return {
    bounds: options.bounds ?? { lower: 0, upper: 1 },
    inputShape,
    numClasses,
    gradientUnavailable: reason,
    logits: () => {
      throw new UserError(`${reason}: it has no gradient and answers asynchronously; use a score-based attack (--attack square)`);
    },
    async query(x: tf.Tensor4D): Promise<tf.Tensor2D> {
      const n = x.shape[0];
      const raw = await fn((await x.data()) as Float32Array, [n, ...inputShape]);
      const flat = raw instanceof Float32Array ? raw : Float32Array.from(raw.flatMap((row) => Array.from(row)));
      if (flat.length !== n * numClasses || (!(raw instanceof Float32Array) && raw.length !== n)) {
        throw new UserError(`${name} answered ${raw.length} rows / ${flat.length} scores for ${n} images of ${numClasses} classes: it must return one row of ${numClasses} scores per image`);
      }
      if (flat.some((v) => !Number.isFinite(v) && !(options.outputs === 'probabilities' && v === 0))) {
        throw new UserError(`${name} returned NaN or infinite scores: check the model`);
      }
      return tf.tidy(() => {
        const scores = tf.tensor2d(flat, [n, numClasses]);
        return (options.outputs === 'probabilities' ? tf.log(tf.add(scores, 1e-12)) : scores) as tf.Tensor2D;
      });
    },
    describe: () => ({ name, kind: 'score-only', outputs: options.outputs ?? 'logits' }),
  };
}
