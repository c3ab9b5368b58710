import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { TrainingBatch } from '../src/train/loop.js';
import type { Defense } from './defense.js';

/**
 * Label smoothing (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016,
 * arXiv:1512.00567, §7): t ← (1 − s)·t + s/K. With s = 0.1 and K = 10 a one-hot target becomes
 * 0.91 on the true class and 0.01 elsewhere.
 */
export function smoothTargets(targets: tf.Tensor2D, s: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(targets, 1 - s), s / targets.shape[1]) as tf.Tensor2D);
}

/** The batch's target distributions: the ones a defense set, else the one-hot labels. */
export function targetsOf(b: TrainingBatch, numClasses: number): tf.Tensor2D {
  return b.targets ? tf.clone(b.targets) : (tf.oneHot(tf.cast(b.y, 'int32'), numClasses) as tf.Tensor2D);
}

export function labelSmoothing(s: number): Defense {
  if (!(s > 0 && s < 1)) throw new UserError(`label-smoothing=${s}: give the smoothing mass in (0, 1), e.g. label-smoothing=0.1`);
  return {
    name: `label-smoothing=${s}`,
    stage: 'targets',
    batch: (b, ctx) => ({ ...b, targets: tf.tidy(() => smoothTargets(targetsOf(b, ctx.classifier.numClasses), s)) }),
    describe: () => ({ smoothing: s }),
  };
}
