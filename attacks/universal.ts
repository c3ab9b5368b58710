import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { crossEntropy } from '../src/tensor/loss.js';
import { makeRng, permutation, type Rng } from '../src/tensor/random.js';
import type { Attack, AttackContext, Classifier, Criterion, Dataset, FittedPerturbation, Norm } from '../src/types.js';

/**
 * The machinery of universal attacks (UAP, patch): one perturbation per ε, fitted on training
 * examples by minibatch gradient ascent on the mean cross-entropy, then applied unchanged to every
 * evaluated example. The harness calls `fit` once per ε before any batch (harness/universal-fit.ts);
 * `run` applies what was fitted, so the per-batch attack interface stays as it is.
 */
export interface UniversalSpec {
  name: string;
  norm: Norm;
  config: Record<string, unknown>;
  epochs: number;
  batchSize: number;
  /** The starting parameters at ε (a tensor the fit owns). */
  init(shape: [number, number, number], eps: number, bounds: { lower: number; upper: number }, rng: Rng): tf.Tensor;
  /** The images with the parameters applied; differentiable in `param`. `rows` = global indices (placements). */
  apply(x: tf.Tensor4D, param: tf.Tensor, eps: number, placements: Placement[]): tf.Tensor4D;
  /** One ascent step from the mean-loss gradient, projected back into the threat model. */
  step(param: tf.Tensor, grad: tf.Tensor, eps: number, bounds: { lower: number; upper: number }): tf.Tensor;
  /** Where each example's perturbation goes (patches); nothing for a full-image perturbation. */
  placements(n: number, rng: () => number, shape: [number, number, number], eps: number): Placement[];
  /** The evaluation's placements: per example from (seed, its global index), so batches do not matter. */
  evalPlacements(ctx: AttackContext, n: number, shape: [number, number, number], eps: number): Placement[];
  describe(param: tf.Tensor, eps: number): Omit<FittedPerturbation, 'details'>;
}

/** Top-left corner of a patch in one image. */
export interface Placement {
  top: number;
  left: number;
}

/** Examples per minibatch of the fit, and its default number of passes over the fit set. */
export const FIT_BATCH = 32;

export function universalAttack(spec: UniversalSpec): Attack {
  // Plain arrays, not tensors: the attack outlives evaluations that check for leaked tensors.
  const fitted = new Map<number, { values: Float32Array; shape: number[] }>();
  const attack: Attack = {
    name: spec.name,
    norm: spec.norm,
    kind: 'universal',
    config: spec.config,
    async fit(model: Classifier, data: Dataset, eps: number, seed: number): Promise<FittedPerturbation> {
      if (data.size === 0) throw new UserError(`${spec.name}: the fit set is empty: give --fit-size N with N ≥ 1`);
      const shape = data.shape;
      const rng = makeRng(seed);
      fitted.delete(eps);
      let param = spec.init(shape, eps, model.bounds, rng);
      const all = tf.tensor4d(data.images, [data.size, ...shape]);
      const labels = tf.tensor1d(data.labels, 'int32');
      try {
        for (let epoch = 0; epoch < spec.epochs; epoch++) {
          const order = Array.from(permutation(data.size, rng));
          for (let from = 0; from < order.length; from += spec.batchSize) {
            const rows = order.slice(from, from + spec.batchSize);
            const placements = spec.placements(rows.length, rng, shape, eps);
            const next = tf.tidy(() => {
              const idx = tf.tensor1d(rows, 'int32');
              const x = tf.gather(all, idx) as tf.Tensor4D;
              const y = tf.gather(labels, idx) as tf.Tensor1D;
              const lossOf = (p: tf.Tensor) => tf.mean(crossEntropy(model.logits(clipBox(spec.apply(x, p, eps, placements), model.bounds)), y)) as tf.Scalar;
              const g = tf.grad(lossOf)(param);
              return spec.step(param, g, eps, model.bounds);
            });
            param.dispose();
            param = next;
          }
        }
        // The fit set under the final perturbation (new random placements for patches).
        const placements = spec.placements(data.size, rng, shape, eps);
        const fooled = tf.tidy(() => {
          const z = model.logits(clipBox(spec.apply(all, param, eps, placements), model.bounds));
          return tf.sum(tf.cast(tf.notEqual(tf.argMax(z, 1), labels), 'int32')).dataSync()[0]!;
        });
        fitted.set(eps, { values: Float32Array.from(param.dataSync()), shape: [...param.shape] });
        return {
          ...spec.describe(param, eps),
          details: { examples: data.size, split: data.split, epochs: spec.epochs, batchSize: spec.batchSize, gradientsPerFitExample: spec.epochs, fitSetErrorRate: fooled / data.size },
          // One gradient per fit example and pass, one forward pass per example for the final check.
          costs: { gradients: spec.epochs * data.size, queries: data.size },
        };
      } finally {
        tf.dispose([all, labels, param]);
      }
    },
    run(model: Classifier, x: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): tf.Tensor4D {
      if (criterion.targeted) throw new UserError(`${spec.name} is untargeted (one perturbation against the true labels): drop --targeted`);
      const got = fitted.get(eps);
      if (!got) throw new Error(`${spec.name}: nothing fitted at ε = ${eps}: fit() runs before the batches (evaluate's fitData)`);
      const [n, h, w, c] = x.shape;
      return tf.tidy(() => spec.apply(x, tf.tensor(got.values, got.shape), eps, spec.evalPlacements(ctx, n, [h, w, c], eps)));
    },
  };
  return attack;
}

function clipBox(x: tf.Tensor4D, bounds: { lower: number; upper: number }): tf.Tensor4D {
  return tf.clipByValue(x, bounds.lower, bounds.upper);
}

/** Training examples a universal attack fits on unless told (--fit-size). */
export const DEFAULT_FIT_SIZE = 300;
