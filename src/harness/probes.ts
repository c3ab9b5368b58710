import * as tf from '@tensorflow/tfjs';
import { scoresOf } from '../model/scores.js';
import { crossEntropy } from '../tensor/loss.js';
import type { Attack, Classifier } from '../types.js';
import { runAttack } from '../../attacks/run-attack.js';
import type { ModelProbe } from './sanity.js';

/**
 * Measures what the sanity checks need on a few clean examples: whether input gradients are
 * zero or non-finite, whether the model is randomised, and (with an iterative attack) whether
 * accuracy reaches chance when ε covers the whole input range.
 */
export async function probeModel(model: Classifier, x: tf.Tensor4D, labels: Int32Array, unboundedAttack: Attack | undefined, seed: number): Promise<ModelProbe> {
  const n = x.shape[0];
  const y = tf.tensor1d(labels, 'int32');
  if (model.gradientUnavailable) {
    const [a, b] = [await scoresOf(model, x), await scoresOf(model, x)];
    const repeat = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    tf.dispose([a, b]);
    y.dispose();
    return { n, zeroGradients: 0, nonFiniteGradients: 0, repeatDifference: repeat, numClasses: model.numClasses, gradientUnavailable: model.gradientUnavailable };
  }
  const [zero, nonFinite] = tf.tidy(() => {
    const g = tf.grad((input: tf.Tensor) => tf.sum(crossEntropy(model.logits(input as tf.Tensor4D), y)))(x);
    const flat = tf.reshape(g, [n, -1]);
    const finite = tf.all(tf.isFinite(flat), 1);
    const allZero = tf.all(tf.equal(flat, 0), 1);
    return [tf.sum(tf.cast(allZero, 'int32')).dataSync()[0]!, n - tf.sum(tf.cast(finite, 'int32')).dataSync()[0]!];
  });
  const repeat = tf.tidy(() => tf.max(tf.abs(tf.sub(model.logits(x), model.logits(x)))).dataSync()[0]!);
  const probe: ModelProbe = { n, zeroGradients: zero!, nonFiniteGradients: nonFinite!, repeatDifference: repeat, numClasses: model.numClasses };
  if (unboundedAttack) {
    const range = model.bounds.upper - model.bounds.lower;
    // The whole box fits in this ball: L∞ radius = range, L2 radius = range·√d.
    const eps = unboundedAttack.norm.name === 'linf' ? range : range * Math.sqrt(x.size / n);
    const { adv } = await runAttack(model, unboundedAttack, x, { labels: y, targeted: false }, eps, seed);
    const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(adv), 1), y), 'int32')).dataSync()[0]!);
    adv.dispose();
    probe.unbounded = { attack: unboundedAttack.name, eps, accuracy: correct / n, n };
  }
  y.dispose();
  return probe;
}
