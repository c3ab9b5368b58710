import * as tf from '@tensorflow/tfjs';
import { clipToBox, perExample } from '../src/tensor/norms.js';
import { objectiveGradient } from '../src/tensor/gradient.js';
import type { LossName } from '../src/tensor/loss.js';
import type { Attack, AttackContext, Classifier, Criterion, Norm } from '../src/types.js';

/**
 * The one projected-gradient loop behind FGSM, FGM, BIM, PGD and MI-FGSM (after foolbox's
 * gradient_descent_base): x ← Π_{ε-ball ∩ box}(x + α·normalize(direction)).
 */
export interface GradientDescentConfig {
  steps: number;
  /** Step size as a fraction of ε; ignored when absStepsize is set. */
  relStepsize: number;
  absStepsize?: number;
  /** Uniform random start inside the ε-ball (Madry et al.). */
  randomStart: boolean;
  /** MI-FGSM decay μ (Dong et al.): direction ← μ·direction + ∇/‖∇‖₁. Absent = plain gradient. */
  momentum?: number;
  loss: LossName;
}

/** Per-example L1 normalisation as in Dong et al. 2018, eq. 6. */
function l1Normalize(g: tf.Tensor4D): tf.Tensor4D {
  const l1 = tf.sum(tf.abs(g), [1, 2, 3]) as tf.Tensor1D;
  return tf.div(g, perExample(tf.add(l1, 1e-12) as tf.Tensor1D));
}

export function gradientDescentAttack(name: string, norm: Norm, config: GradientDescentConfig): Attack {
  if (!Number.isInteger(config.steps) || config.steps < 1) {
    throw new Error(`${name}: steps must be a positive integer, got ${config.steps}`);
  }
  return {
    name,
    norm,
    config: { ...config, norm: norm.name },
    run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): tf.Tensor4D {
      const { lower, upper } = model.bounds;
      const alpha = config.absStepsize ?? config.relStepsize * eps;
      let x: tf.Tensor4D = config.randomStart
        ? tf.tidy(() => clipToBox(norm.randomStart(x0, eps, ctx.seed), lower, upper))
        : tf.clone(x0);
      let velocity: tf.Tensor4D | undefined;
      for (let step = 0; step < config.steps; step++) {
        const [next, nextVelocity] = tf.tidy(() => {
          let direction: tf.Tensor4D = objectiveGradient(model, x, criterion, ctx, config.loss);
          let v: tf.Tensor4D | undefined;
          if (config.momentum !== undefined) {
            const normalized = l1Normalize(direction);
            v = velocity ? (tf.add(tf.mul(velocity, config.momentum), normalized) as tf.Tensor4D) : normalized;
            direction = v as tf.Tensor4D;
          }
          const moved = tf.add(x, tf.mul(norm.normalize(direction), alpha)) as tf.Tensor4D;
          const projected = clipToBox(norm.project(moved, x0, eps), lower, upper);
          return v ? [projected, v] : [projected];
        }) as [tf.Tensor4D, tf.Tensor4D?];
        x.dispose();
        velocity?.dispose();
        x = next;
        velocity = nextVelocity;
      }
      velocity?.dispose();
      return x;
    },
  };
}
