import * as tf from '@tensorflow/tfjs';
import { labelMargin } from '../tensor/label-margin.js';
import { round6 } from './stats.js';

/** What the harness keeps of a batch of scores: the top-1 class, the true-class margin and the top-1 probability. */
export interface ScoreFacts {
  predictions: Int32Array;
  /** Logit of the true class minus the largest other logit (> 0: classified correctly). */
  margin: number[];
  /** Largest softmax probability. */
  confidence: number[];
}

/** Reads the facts of a [n, K] score matrix against the true labels of its rows. Does not dispose `scores`. */
export async function scoreFacts(scores: tf.Tensor2D, labels: ArrayLike<number>): Promise<ScoreFacts> {
  const [pred, margin, confidence] = tf.tidy(() => [tf.argMax(scores, 1), labelMargin(scores, tf.tensor1d(Array.from(labels), 'int32')), tf.max(tf.softmax(scores), 1)]);
  try {
    const [p, m, c] = await Promise.all([pred.data(), margin.data(), confidence.data()]);
    return { predictions: p as Int32Array, margin: Array.from(m as Float32Array, (v) => Number(v.toPrecision(6))), confidence: Array.from(c as Float32Array, round6) };
  } finally {
    tf.dispose([pred, margin, confidence]);
  }
}
