import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../types.js';

/** The model's scores for a batch: its async query when it has one, else its logits. */
export async function scoresOf(model: Classifier, x: tf.Tensor4D): Promise<tf.Tensor2D> {
  return model.query ? model.query(x) : model.logits(x);
}

/** Predicted classes of a batch. */
export async function predictClasses(model: Classifier, x: tf.Tensor4D): Promise<Int32Array> {
  const scores = await scoresOf(model, x);
  const pred = tf.argMax(scores, 1);
  const out = (await pred.data()) as Int32Array;
  tf.dispose([pred, scores]);
  return out;
}
