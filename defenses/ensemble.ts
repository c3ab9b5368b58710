import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { scoresOf } from '../src/model/scores.js';
import type { Classifier } from '../src/types.js';

/**
 * An ensemble whose logits are the mean of its members' logits (the "cross-network replication"
 * of the project's source documents: networks built from one block template, their predictions
 * averaged). The mean is differentiable, so gradient attacks see the whole ensemble. Members must
 * share input shape, classes and bounds; disposing the ensemble disposes them.
 */
export function ensemble(members: Classifier[]): Classifier {
  const first = members[0];
  if (!first) throw new UserError('an ensemble needs at least one member');
  for (const [i, m] of members.entries()) {
    const same = m.numClasses === first.numClasses && m.inputShape.every((d, k) => d === first.inputShape[k]) && m.bounds.lower === first.bounds.lower && m.bounds.upper === first.bounds.upper;
    if (!same) throw new UserError(`ensemble member ${i} takes ${m.inputShape.join('×')} images in [${m.bounds.lower}, ${m.bounds.upper}] with ${m.numClasses} classes, unlike member 0: members must agree`);
  }
  const unavailable = members.map((m) => m.gradientUnavailable).find((g) => g !== undefined);
  const mean = (all: tf.Tensor2D[]) => tf.tidy(() => tf.div(tf.addN(all), all.length) as tf.Tensor2D);
  return {
    bounds: first.bounds,
    inputShape: first.inputShape,
    numClasses: first.numClasses,
    logits: (x) => tf.tidy(() => mean(members.map((m) => m.logits(x)))),
    ...(unavailable ? { gradientUnavailable: unavailable } : {}),
    ...(members.some((m) => m.query)
      ? {
          query: async (x: tf.Tensor4D) => {
            const all = await Promise.all(members.map((m) => scoresOf(m, x)));
            try {
              return mean(all);
            } finally {
              tf.dispose(all);
            }
          },
        }
      : {}),
    dispose: () => members.forEach((m) => m.dispose?.()),
    describe: () => ({ ensemble: members.map((m) => m.describe?.() ?? {}), combination: 'mean of logits' }),
  };
}
