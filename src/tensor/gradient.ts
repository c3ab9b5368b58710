import * as tf from '@tensorflow/tfjs';
import type { AttackContext, Classifier, Criterion } from '../types.js';
import { LOSSES, type LossName } from './loss.js';

/**
 * Gradient of the attacker's objective with respect to the input: the loss on the true labels
 * (untargeted, to be increased) or minus the loss on the targets (targeted). Summed over the
 * batch so that each example's gradient is its own. Counts one gradient per example.
 */
export function objectiveGradient(
  model: Classifier,
  x: tf.Tensor4D,
  criterion: Criterion,
  ctx: AttackContext,
  loss: LossName = 'ce',
): tf.Tensor4D {
  const lossFn = LOSSES[loss];
  const sign = criterion.targeted ? -1 : 1;
  const grad = tf.grad((input: tf.Tensor) => tf.mul(sign, tf.sum(lossFn(model.logits(input as tf.Tensor4D), criterion.labels))) as tf.Scalar);
  ctx.costs.gradients += x.shape[0];
  return grad(x) as tf.Tensor4D;
}
