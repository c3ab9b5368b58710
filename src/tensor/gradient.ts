import * as tf from '@tensorflow/tfjs';
import type { AttackContext, Classifier, Criterion } from '../types.js';
import { lossFunction, type LossName } from './loss.js';

/** The attacker's objective per example: loss on the labels (untargeted) or minus the loss on the targets. */
function objective(logits: tf.Tensor2D, criterion: Criterion, loss: LossName): tf.Tensor1D {
  const l = lossFunction(loss)(logits, criterion.labels);
  return (criterion.targeted ? tf.neg(l) : l) as tf.Tensor1D;
}

/**
 * Gradient of the attacker's objective with respect to the input, together with the logits of
 * the same forward pass (so that success can be checked at no extra cost). Summed over the
 * batch so that each example's gradient is its own. Counts one gradient per example.
 */
export function gradientAndLogits(
  model: Classifier,
  x: tf.Tensor4D,
  criterion: Criterion,
  ctx: AttackContext,
  loss: LossName = 'ce',
): { grad: tf.Tensor4D; logits: tf.Tensor2D } {
  let logits: tf.Tensor2D | undefined;
  const grad = tf.grad((input: tf.Tensor) => {
    const z = model.logits(input as tf.Tensor4D);
    logits = tf.keep(z);
    return tf.sum(objective(z, criterion, loss)) as tf.Scalar;
  })(x) as tf.Tensor4D;
  ctx.costs.gradients += x.shape[0];
  return { grad, logits: logits! };
}

/** Gradient of the attacker's objective only; see gradientAndLogits. */
export function objectiveGradient(model: Classifier, x: tf.Tensor4D, criterion: Criterion, ctx: AttackContext, loss: LossName = 'ce'): tf.Tensor4D {
  const { grad, logits } = gradientAndLogits(model, x, criterion, ctx, loss);
  logits.dispose();
  return grad;
}

/** Per example: has the attack succeeded (misclassified, or classified as the target)? */
export function isSuccess(logits: tf.Tensor2D, criterion: Criterion): tf.Tensor1D {
  return tf.tidy(() => {
    const pred = tf.argMax(logits, 1);
    const labels = tf.cast(criterion.labels, 'int32');
    return (criterion.targeted ? tf.equal(pred, labels) : tf.notEqual(pred, labels)) as tf.Tensor1D;
  });
}
