import * as tf from '@tensorflow/tfjs';
import { clipToBox, perExample } from '../src/tensor/norms.js';
import { gradientAndLogits, isSuccess } from '../src/tensor/gradient.js';
import { lossFunction, type LossName } from '../src/tensor/loss.js';
import { labelMargin } from '../src/tensor/label-margin.js';
import { exampleSeeds } from '../src/tensor/random.js';
import { mergeRows, takeRows } from '../src/tensor/rows.js';
import type { AttackContext, Classifier, Criterion, Norm, SyncAttack } from '../src/types.js';

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
  /** Independent runs; later runs attack only the examples no earlier run fooled. */
  restarts: number;
}

/** Per-example L1 normalisation as in Dong et al. 2018, eq. 6. */
function l1Normalize(g: tf.Tensor4D): tf.Tensor4D {
  const l1 = tf.sum(tf.abs(g), [1, 2, 3]) as tf.Tensor1D;
  return tf.div(g, perExample(tf.add(l1, 1e-12) as tf.Tensor1D));
}

interface RunResult {
  x: tf.Tensor4D;
  fooled: Uint8Array;
}

/**
 * One run of the loop. Keeps, per example, the first iterate (after the first step) that
 * succeeded — an iterate that fools the model is a valid adversarial example even if later steps
 * wander off; examples never fooled get the last iterate.
 */
function runOnce(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext, config: GradientDescentConfig, norm: Norm, restart: number): RunResult {
  const { lower, upper } = model.bounds;
  const n = x0.shape[0];
  const alpha = config.absStepsize ?? config.relStepsize * eps;
  let x: tf.Tensor4D = config.randomStart
    ? tf.tidy(() => clipToBox(norm.randomStart(x0, eps, exampleSeeds(ctx.seed, n, ctx.indices, restart)), lower, upper))
    : tf.clone(x0);
  let best = tf.clone(x);
  let fooled = tf.zeros([n], 'bool') as tf.Tensor1D;
  let velocity: tf.Tensor4D | undefined;
  // Convergence: two sums per iterate of each run (restarts attack the examples left standing), for iterative attacks only.
  const trace = config.steps > 1 ? ctx.convergence : undefined;
  let iterate = 0;
  const record = (at: tf.Tensor4D, logits: tf.Tensor2D) => {
    const [nextBest, nextFooled] = tf.tidy(() => {
      const success = isSuccess(logits, criterion);
      const fresh = tf.logicalAnd(success, tf.logicalNot(fooled));
      return [tf.where(tf.broadcastTo(tf.reshape(fresh, [n, 1, 1, 1]), at.shape), at, best) as tf.Tensor4D, tf.logicalOr(fooled, success) as tf.Tensor1D];
    });
    best.dispose();
    fooled.dispose();
    best = nextBest!;
    fooled = nextFooled!;
    iterate++;
    if (trace) {
      const [lossSum, fooledCount] = tf.tidy(() => tf.stack([tf.sum(lossFunction(config.loss)(logits, criterion.labels)), tf.sum(tf.cast(fooled, 'float32'))]).dataSync());
      // The objective the loop ascends: minus the loss on the target when targeted.
      trace.record(iterate, criterion.targeted ? -lossSum! : lossSum!, n - fooledCount!, n, restart);
      // Traced rows are rows of the whole batch: only the first run has them all.
      if (restart === 0 && trace.tracedRows?.length && trace.recordExamples) {
        const rows = trace.tracedRows;
        const [loss, margin] = tf.tidy(() => {
          const picked = tf.gather(logits, Array.from(rows));
          const labels = tf.gather(criterion.labels, Array.from(rows));
          const l = lossFunction(config.loss)(picked, labels);
          return [(criterion.targeted ? tf.neg(l) : l).dataSync(), labelMargin(picked, labels).dataSync()];
        });
        trace.recordExamples(iterate, loss!, margin!);
      }
    }
  };
  for (let step = 0; step < config.steps; step++) {
    const { grad, logits } = gradientAndLogits(model, x, criterion, ctx, config.loss);
    // The starting point is not an iterate: FGSM must return x + ε·sign(∇) even for an example
    // the model already misclassifies.
    if (step > 0) record(x, logits);
    const [next, nextVelocity] = tf.tidy(() => {
      let direction: tf.Tensor4D = grad;
      let v: tf.Tensor4D | undefined;
      if (config.momentum !== undefined) {
        const normalized = l1Normalize(grad);
        v = velocity ? (tf.add(tf.mul(velocity, config.momentum), normalized) as tf.Tensor4D) : normalized;
        direction = v;
      }
      const moved = tf.add(x, tf.mul(norm.normalize(direction), alpha)) as tf.Tensor4D;
      const projected = clipToBox(norm.project(moved, x0, eps), lower, upper);
      return v ? [projected, v] : [projected];
    }) as [tf.Tensor4D, tf.Tensor4D?];
    tf.dispose([grad, logits, x]);
    velocity?.dispose();
    x = next;
    velocity = nextVelocity;
  }
  velocity?.dispose();
  const finalLogits = model.logits(x);
  ctx.costs.queries += n;
  record(x, finalLogits);
  finalLogits.dispose();
  const fooledMask = fooled.dataSync() as Uint8Array;
  const out = tf.tidy(() => tf.where(tf.broadcastTo(tf.reshape(fooled, [n, 1, 1, 1]), x.shape), best, x) as tf.Tensor4D);
  tf.dispose([best, fooled, x]);
  return { x: out, fooled: Uint8Array.from(fooledMask) };
}

export function gradientDescentAttack(name: string, norm: Norm, config: GradientDescentConfig): SyncAttack {
  if (!Number.isInteger(config.steps) || config.steps < 1) {
    throw new Error(`${name}: steps must be a positive integer, got ${config.steps}`);
  }
  if (!Number.isInteger(config.restarts) || config.restarts < 1) {
    throw new Error(`${name}: restarts must be a positive integer, got ${config.restarts}`);
  }
  return {
    name,
    norm,
    kind: config.steps === 1 ? 'single-step' : 'iterative',
    config: { ...config, norm: norm.name },
    run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): tf.Tensor4D {
      let { x, fooled } = runOnce(model, x0, criterion, eps, ctx, config, norm, 0);
      const indices = ctx.indices ?? Int32Array.from({ length: x0.shape[0] }, (_, i) => i);
      for (let restart = 1; restart < config.restarts; restart++) {
        const standing = Array.from(fooled.keys()).filter((i) => !fooled[i]);
        if (standing.length === 0) break;
        const subX0 = takeRows(x0, standing);
        const subLabels = takeRows(criterion.labels, standing);
        const subCtx: AttackContext = { ...ctx, indices: Int32Array.from(standing, (i) => indices[i]!) };
        const sub = runOnce(model, subX0, { labels: subLabels, targeted: criterion.targeted }, eps, subCtx, config, norm, restart);
        const merged = mergeRows(x, sub.x, standing, sub.fooled);
        standing.forEach((row, k) => {
          if (sub.fooled[k]) fooled[row] = 1;
        });
        tf.dispose([x, subX0, subLabels, sub.x]);
        x = merged;
      }
      return x;
    },
  };
}
