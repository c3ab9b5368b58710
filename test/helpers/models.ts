import * as tf from '@tensorflow/tfjs';
import type { Classifier, ImageShape } from '../../src/types.js';

/**
 * A linear classifier logits = W·flatten(x) + b built from plain arrays, so that gradients
 * can be worked out by hand. W is [classes][pixels].
 */
export function linearClassifier(W: number[][], b: number[], shape: ImageShape): Classifier & { dispose(): void } {
  const weights = tf.tensor2d(W).transpose();
  const bias = tf.tensor1d(b);
  const pixels = shape[0] * shape[1] * shape[2];
  return {
    bounds: { lower: 0, upper: 1 },
    inputShape: shape,
    numClasses: W.length,
    logits: (x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [-1, pixels]), weights), bias) as tf.Tensor2D),
    dispose: () => {
      weights.dispose();
      bias.dispose();
    },
    describe: () => ({ name: 'linear (test)' }),
  };
}

/**
 * Classifies by the first pixel: class 1 when it exceeds 0.5, else class 0 (logits ±10·(x₀−0.5)).
 * Lets a test decide exactly which examples an attack flips.
 */
export function thresholdClassifier(shape: ImageShape = [1, 2, 1]): Classifier {
  const pixels = shape[0] * shape[1] * shape[2];
  return {
    bounds: { lower: 0, upper: 1 },
    inputShape: shape,
    numClasses: 2,
    logits: (x) =>
      tf.tidy(() => {
        const first = tf.slice(tf.reshape(x, [-1, pixels]), [0, 0], [-1, 1]);
        const z = tf.mul(tf.sub(first, 0.5), 10);
        return tf.concat([tf.neg(z), z], 1) as tf.Tensor2D;
      }),
    describe: () => ({ name: 'threshold (test)' }),
  };
}
