import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../types.js';

/** A preprocessing step in front of a classifier (a defense such as bit-depth reduction or noise). */
export interface InputTransform {
  name: string;
  /** True when two calls on the same input may differ (then attack with EOT). */
  randomized: boolean;
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

/** A classifier behind an input transform; gradients flow through the transform as they are. */
export interface TransformedClassifier extends Classifier {
  base: Classifier;
  transform: InputTransform;
}

export function withInputTransform(base: Classifier, transform: InputTransform): TransformedClassifier {
  return {
    base,
    transform,
    bounds: base.bounds,
    inputShape: base.inputShape,
    numClasses: base.numClasses,
    logits: (x) => tf.tidy(() => base.logits(transform.apply(x))),
    dispose: () => base.dispose?.(),
    describe: () => ({ ...base.describe?.(), inputTransform: transform.name }),
  };
}

export function isTransformed(model: Classifier): model is TransformedClassifier {
  return 'transform' in model && 'base' in model;
}

/**
 * BPDA's straight-through surrogate (Athalye, Carlini & Wagner 2018): the forward pass applies
 * the transform, the backward pass treats it as the identity, so a non-differentiable step
 * (rounding, JPEG, median filter) no longer hides the gradient of the classifier behind it.
 */
export function straightThrough(model: TransformedClassifier): Classifier {
  const passThrough = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: model.transform.apply(args[0] as tf.Tensor4D),
    gradFunc: (dy: tf.Tensor) => dy,
  }));
  return {
    bounds: model.bounds,
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    logits: (x) => tf.tidy(() => model.base.logits(passThrough(x) as tf.Tensor4D)),
    describe: () => ({ ...model.describe?.(), surrogate: 'straight-through (BPDA)' }),
  };
}

/**
 * EOT's surrogate (Athalye et al. 2018, "Synthesizing Robust Adversarial Examples"): logits
 * averaged over several draws of a randomised model, so its gradient is the average gradient.
 */
export function expectation(model: Classifier, samples: number): Classifier {
  return {
    bounds: model.bounds,
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    logits: (x) => tf.tidy(() => tf.div(tf.addN(Array.from({ length: samples }, () => model.logits(x))), samples) as tf.Tensor2D),
    describe: () => ({ ...model.describe?.(), surrogate: `expectation over ${samples} draws (EOT)` }),
  };
}
