import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { crossEntropy } from '../src/tensor/loss.js';
import { clipToBox, perExample, uniformNoise } from '../src/tensor/norms.js';
import { exampleSeeds, seededNormal } from '../src/tensor/random.js';
import { mergeRows, takeRows } from '../src/tensor/rows.js';
import type { AttackContext, Classifier, Criterion, Norm, NormName, SyncAttack } from '../src/types.js';
import { dlrLoss, dlrTargetedLoss } from '../src/tensor/dlr-loss.js';
import { attackName, resolveNorm } from './options.js';
import { tidyValue } from '../src/tensor/read.js';

/**
 * APGD — Auto-PGD of Croce & Hein, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML 2020 (arXiv:2003.01690), Algorithm 1.
 * Norms L∞ and L2; losses cross-entropy ('apgd-ce') and DLR ('apgd-dlr'), both maximised
 * (targeted: −CE on the target, or the targeted DLR with y = the clean prediction, since the
 * criterion carries only the targets). L2 variants are named with '-l2' appended, as pgd-l2.
 *
 * Defaults: 100 steps, 1 restart, ρ = 0.75, momentum α = 0.75, initial step η = 2ε.
 * Step: z = P(x_k + η·normalize(∇)), x_{k+1} = P(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1})),
 * the first step plain (α = 1); P projects onto the ε-ball and the input box. At each
 * checkpoint (apgdCheckpoints) η halves for an example, which then restarts from its best
 * point, when the loss rose in fewer than ρ of the steps since the last checkpoint, or when η
 * was not halved at the last checkpoint and the best loss has not improved since. Where the
 * paper and the reference code differ, the paper is followed: condition 1 is strict (< ρ; the
 * code halves at ≤ ρ) and condition 2 may fire at the first checkpoint (the code starts as if η
 * had just been halved). N steps cost N + 1 gradients per example (the start is evaluated too).
 *
 * Start as in the reference implementation (autoattack's APGDAttack): a random point on the
 * boundary of the ball (L∞: uniform noise scaled to ‖δ‖∞ = ε; L2: a Gaussian direction of
 * length ε), clipped to the box. Each example returns the highest-loss misclassified iterate if
 * any, else its highest-loss iterate. Restarts run only on the examples not yet fooled and keep
 * the per-example worst case.
 *
 * APGD-T ('apgd-t', option `targets`): the same loop on the targeted DLR loss towards each of the
 * k classes with the highest clean logits other than the true one, restarts nested in targets,
 * each run on the examples no earlier run fooled (autoattack's APGDAttack_targeted).
 */
export interface ApgdOptions {
  norm?: NormName;
  loss?: ApgdLoss;
  steps?: number;
  restarts?: number;
  /** Condition-1 threshold: halve η when the loss rose in fewer than ρ of the steps. */
  rho?: number;
  /** Momentum weight α of the new point (1 − α goes to the previous step). */
  alpha?: number;
  /**
   * APGD-T (Croce & Hein 2020, §5): the targeted DLR loss against each of the `targets` classes
   * with the highest clean logits other than the true one, one run per target on the examples
   * still standing (an untargeted criterion: success = misclassified). Absent: plain APGD.
   */
  targets?: number;
  /**
   * 'paper' (default): Algorithm 1's step-halving conditions as written. 'reference': those of
   * autoattack's APGDAttack — condition 1 halves at ≤ ρ (not < ρ), and condition 2 cannot fire at
   * the first checkpoint (its state starts as if η had just been halved). The `autoattack` recipe uses it.
   */
  schedule?: 'paper' | 'reference';
}

export type ApgdLoss = 'ce' | 'dlr';

/**
 * Iterations w_j at which APGD may halve its step: w_j = ⌈p_j·N⌉ with p_0 = 0, p_1 = 0.22,
 * p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), for p_j ≤ 1. For small N several p_j share a
 * ceiling; repeats are dropped, since a second check after zero steps has nothing to judge.
 */
export function apgdCheckpoints(nIter: number): number[] {
  if (!Number.isInteger(nIter) || nIter < 1) throw new Error(`apgdCheckpoints: nIter must be a positive integer, got ${nIter}`);
  // p in hundredths: in floats 0.22 + 0.19 is 0.41000000000000003, whose ⌈·100⌉ is 42, not 41.
  const out = [0];
  let previous = 0;
  let p = 22;
  while (p <= 100) {
    const w = Math.ceil((p * nIter) / 100);
    if (w > out[out.length - 1]!) out.push(w);
    const step = Math.max(p - previous - 3, 6);
    previous = p;
    p += step;
  }
  return out;
}

/** What the attack optimises for one batch: the criterion, plus the class to leave for targeted DLR. */
interface Objective {
  loss: ApgdLoss;
  labels: tf.Tensor1D;
  targeted: boolean;
  /** Targeted DLR only: the class each example starts in (its clean prediction). */
  source?: tf.Tensor1D;
  /** APGD-T: the class to reach with the targeted DLR; labels stay the true ones (untargeted success). */
  target?: tf.Tensor1D;
}

/** Per-example value to maximise. */
function objectiveLoss(objective: Objective, logits: tf.Tensor2D): tf.Tensor1D {
  const { loss, labels, targeted, source, target } = objective;
  if (target) return dlrTargetedLoss(logits, labels, target);
  if (loss === 'ce') return targeted ? (tf.neg(crossEntropy(logits, labels)) as tf.Tensor1D) : crossEntropy(logits, labels);
  if (!targeted) return dlrLoss(logits, labels);
  if (!source) throw new Error('apgd: targeted DLR needs the source classes');
  return dlrTargetedLoss(logits, source, labels);
}

interface Evaluation {
  grad: tf.Tensor4D;
  loss: Float32Array;
  /** 1 where the point already meets the criterion (misclassified, or at the target). */
  success: Uint8Array;
}

/**
 * Loss, success and gradient at x from one forward and one backward pass (one gradient per
 * example). The logits ride out of the tape as extra columns of the differentiated output with
 * a zero upstream gradient, so the backward pass sees only the loss.
 */
function evaluateAt(model: Classifier, x: tf.Tensor4D, objective: Objective, ctx: AttackContext): Evaluation {
  const [n] = x.shape;
  const k = model.numClasses;
  const [grad, stats] = tf.tidy(() => {
    const f = (input: tf.Tensor): tf.Tensor => {
      const logits = model.logits(input as tf.Tensor4D);
      return tf.concat([tf.expandDims(objectiveLoss(objective, logits), 1), logits], 1);
    };
    const dy = tf.concat([tf.ones([n, 1]), tf.zeros([n, k])], 1);
    const { value, grad } = tf.valueAndGrad(f)(x, dy);
    const loss = tf.slice(value, [0, 0], [n, 1]);
    const predicted = tf.argMax(tf.slice(value, [0, 1], [n, k]), 1);
    const atLabel = tf.equal(predicted, tf.cast(objective.labels, 'int32'));
    const success = objective.targeted ? atLabel : tf.logicalNot(atLabel);
    return [grad as tf.Tensor4D, tf.concat([loss, tf.expandDims(tf.cast(success, 'float32'), 1)], 1)];
  });
  ctx.costs.gradients += n;
  const data = stats!.dataSync() as Float32Array;
  stats!.dispose();
  const loss = new Float32Array(n);
  const success = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    loss[i] = data[2 * i]!;
    success[i] = data[2 * i + 1]! > 0.5 ? 1 : 0;
  }
  return { grad: grad!, loss, success };
}

/** Row i of the result is a[i] where mask[i], else b[i]. */
function selectRows(mask: ArrayLike<number | boolean>, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    // A rank-1 condition would broadcast against the channel axis, not the batch axis.
    const condition = tf.tensor4d(Uint8Array.from(mask, Number), [mask.length, 1, 1, 1], 'bool');
    return tf.where(condition, a, b);
  });
}

/** Replaces a state tensor by selectRows(mask, candidate, current) and frees the old one. */
function updateRows(mask: Uint8Array, candidate: tf.Tensor4D, current: tf.Tensor4D): tf.Tensor4D {
  if (!mask.some((m) => m === 1)) return current;
  const next = selectRows(mask, candidate, current);
  current.dispose();
  return next;
}

/**
 * The reference's start: a random point on the boundary of the ε-ball, clipped to the box. One
 * seed per example, so an example starts at the same point whatever batch it is in.
 */
function randomStart(norm: Norm, x0: tf.Tensor4D, eps: number, seeds: number[], lower: number, upper: number): tf.Tensor4D {
  return tf.tidy(() => {
    const row = [1, ...x0.shape.slice(1)];
    const noise =
      norm.name === 'linf' ? uniformNoise(x0.shape, -1, 1, seeds) : tf.concat(seeds.map((s) => seededNormal(row, 0, 1, s)));
    const size = norm.name === 'linf' ? tf.max(tf.abs(noise), [1, 2, 3]) : tf.sqrt(tf.sum(tf.square(noise), [1, 2, 3]));
    const delta = tf.mul(tf.div(noise, perExample(tf.add(size, 1e-12) as tf.Tensor1D)), eps);
    return clipToBox(tf.add(x0, delta), lower, upper);
  });
}

interface RunResult {
  /** Per example: the best misclassified point if any, else the highest-loss point. */
  x: tf.Tensor4D;
  success: Uint8Array;
  /** The loss of the returned point. */
  loss: Float32Array;
}

interface RunSettings {
  norm: Norm;
  steps: number;
  rho: number;
  alpha: number;
  checkpoints: Set<number>;
  /** Number of steps since the previous checkpoint, keyed by checkpoint. */
  intervals: Map<number, number>;
  /** Which run this is (0 the first, then restarts and target ranks), as its progress is recorded (see AttackContext.convergence). */
  run?: number;
  reference: boolean;
}

/** One APGD run (Algorithm 1) from a random start; every example has its own η and checkpoint state. */
function singleRun(model: Classifier, x0: tf.Tensor4D, objective: Objective, eps: number, seeds: number[], settings: RunSettings, ctx: AttackContext): RunResult {
  const { norm, steps, rho, alpha } = settings;
  const { lower, upper } = model.bounds;
  const n = x0.shape[0];
  const project = (t: tf.Tensor4D): tf.Tensor4D => clipToBox(norm.project(t, x0, eps), lower, upper);

  let x = randomStart(norm, x0, eps, seeds, lower, upper);
  let xPrev = tf.clone(x);
  const start = evaluateAt(model, x, objective, ctx);
  let grad = start.grad;
  let gradBest = tf.clone(grad);
  let xBest = tf.clone(x);
  let xSuccess = tf.clone(x);
  const loss = Float32Array.from(start.loss);
  const lossBest = Float32Array.from(start.loss);
  const success = Uint8Array.from(start.success);
  const lossSuccess = Float32Array.from(start.loss, (l, i) => (success[i] ? l : -Infinity));
  const eta = new Float32Array(n).fill(2 * eps);
  const increases = new Int32Array(n);
  // At w_0 = 0 nothing was halved, so condition 2 can already fire at w_1 (Algorithm 1).
  // The reference code starts as if η had just been halved, so condition 2 waits for w_2.
  const reducedLast = new Uint8Array(n).fill(settings.reference ? 1 : 0);
  const lossBestLastCheck = Float32Array.from(lossBest);
  // Convergence of each run (restarts attack the examples left standing): the loss of the current
  // iterate and the examples not yet fooled, summed, from values this loop has on the host anyway.
  const trace = settings.run === undefined ? undefined : ctx.convergence;
  const note = (k: number, current: Float32Array) => {
    if (!trace) return;
    let sum = 0;
    let standing = 0;
    for (let i = 0; i < n; i++) {
      sum += current[i]!;
      if (!success[i]) standing++;
    }
    trace.record(k, sum, standing, n, settings.run);
    // The loss of the traced rows is on the host already; their margin would cost a forward pass.
    // Traced rows are rows of the whole batch: only the first run has them all.
    if (settings.run === 0 && trace.tracedRows?.length && trace.recordExamples) trace.recordExamples(k, trace.tracedRows.map((r) => current[r]!));
  };
  note(0, start.loss);

  for (let k = 1; k <= steps; k++) {
    const a = k === 1 ? 1 : alpha;
    const xNew = tf.tidy(() => {
      const step = tf.mul(norm.normalize(grad), tf.tensor4d(eta, [n, 1, 1, 1]));
      const z = project(tf.add(x, step) as tf.Tensor4D);
      const moved = tf.add(tf.add(x, tf.mul(tf.sub(z, x), a)), tf.mul(tf.sub(x, xPrev), 1 - a)) as tf.Tensor4D;
      return project(moved);
    });
    const next = evaluateAt(model, xNew, objective, ctx);

    const improved = new Uint8Array(n);
    const newSuccess = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const l = next.loss[i]!;
      if (l > loss[i]!) increases[i]!++;
      loss[i] = l;
      if (l > lossBest[i]!) {
        improved[i] = 1;
        lossBest[i] = l;
      }
      if (next.success[i] && l > lossSuccess[i]!) {
        newSuccess[i] = 1;
        success[i] = 1;
        lossSuccess[i] = l;
      }
    }
    note(k, next.loss);
    xBest = updateRows(improved, xNew, xBest);
    gradBest = updateRows(improved, next.grad, gradBest);
    xSuccess = updateRows(newSuccess, xNew, xSuccess);

    let xNext = xNew;
    let gradNext = next.grad;
    if (settings.checkpoints.has(k)) {
      const interval = settings.intervals.get(k)!;
      const halve = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const oscillating = settings.reference ? increases[i]! <= rho * interval : increases[i]! < rho * interval;
        const stalled = !reducedLast[i] && lossBestLastCheck[i]! >= lossBest[i]!;
        halve[i] = oscillating || stalled ? 1 : 0;
        reducedLast[i] = halve[i]!;
        lossBestLastCheck[i] = lossBest[i]!;
        increases[i] = 0;
        if (halve[i]) {
          eta[i] = eta[i]! / 2;
          // Restart from the best point: the next step compares against its loss.
          loss[i] = lossBest[i]!;
        }
      }
      xNext = updateRows(halve, xBest, xNew);
      gradNext = updateRows(halve, gradBest, next.grad);
    }
    xPrev.dispose();
    xPrev = x;
    x = xNext;
    grad.dispose();
    grad = gradNext;
  }

  const out = selectRows(success, xSuccess, xBest);
  tf.dispose([x, xPrev, grad, gradBest, xBest, xSuccess]);
  return { x: out, success, loss: Float32Array.from(lossBest, (l, i) => (success[i] ? lossSuccess[i]! : l)) };
}

type ApgdSettings = Required<Omit<ApgdOptions, 'targets'>> & { targets?: number };

function checkOptions(name: string, options: ApgdSettings): void {
  const { steps, restarts, rho, alpha, targets } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`${name}: steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(restarts) || restarts < 1) throw new UserError(`${name}: restarts must be a positive integer, got ${restarts}`);
  if (!(rho > 0 && rho <= 1)) throw new UserError(`${name}: rho must be in (0, 1], got ${rho}`);
  if (!(alpha > 0 && alpha <= 1)) throw new UserError(`${name}: alpha must be in (0, 1], got ${alpha}`);
  if (targets !== undefined && !(Number.isInteger(targets) && targets >= 1)) throw new UserError(`${name}: --targets must be a positive integer, got ${targets}`);
}

/**
 * Per example, the `k` classes other than its label with the highest logits, highest first
 * (ties: lower class first): the targets of APGD-T and FAB-T, as autoattack ranks them from the
 * clean logits. Returns k [n] arrays, rank-major.
 */
export function topOtherClasses(logits: Float32Array, labels: ArrayLike<number>, numClasses: number, k: number): Int32Array[] {
  const n = labels.length;
  const out = Array.from({ length: k }, () => new Int32Array(n));
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * numClasses, (i + 1) * numClasses);
    const order = Array.from({ length: numClasses }, (_, c) => c)
      .filter((c) => c !== labels[i])
      .sort((a, b) => row[b]! - row[a]! || a - b);
    for (let r = 0; r < k; r++) out[r]![i] = order[r]!;
  }
  return out;
}

/** The `targets` of APGD-T / FAB-T checked against the model: there must be that many other classes. */
export function checkTargetCount(name: string, targets: number, numClasses: number): void {
  if (targets > numClasses - 1) {
    throw new UserError(`${name}: --targets ${targets} needs a model with more than ${targets} classes, this one has ${numClasses}: use --targets ${numClasses - 1} or fewer`);
  }
}

export function apgd(options: ApgdOptions = {}): SyncAttack {
  const settings: ApgdSettings = {
    norm: options.norm ?? 'linf',
    loss: options.loss ?? 'ce',
    steps: options.steps ?? 100,
    restarts: options.restarts ?? 1,
    rho: options.rho ?? 0.75,
    alpha: options.alpha ?? 0.75,
    schedule: options.schedule ?? 'paper',
    ...(options.targets !== undefined ? { targets: options.targets } : {}),
  };
  const norm = resolveNorm(settings.norm, 'linf');
  const targetCount = settings.targets;
  if (targetCount !== undefined && settings.loss !== 'dlr') throw new UserError(`apgd-t uses the targeted DLR loss, not ${settings.loss}: drop --loss`);
  const name = attackName(targetCount !== undefined ? 'apgd-t' : `apgd-${settings.loss}`, norm, 'linf');
  checkOptions(name, settings);
  const checkpoints = apgdCheckpoints(settings.steps);
  const intervals = new Map(checkpoints.slice(1).map((w, j) => [w, w - checkpoints[j]!] as const));
  const run: RunSettings = {
    norm,
    steps: settings.steps,
    rho: settings.rho,
    alpha: settings.alpha,
    checkpoints: new Set(intervals.keys()),
    intervals,
    reference: settings.schedule === 'reference',
  };

  return {
    name,
    norm,
    kind: 'iterative',
    config: {
      ...settings,
      initialStepSize: '2ε',
      start: 'random on the ε-sphere (autoattack)',
      checkpoints,
      ...(targetCount !== undefined ? { targetsBy: 'clean logits, highest first, true class excluded; one run per target on the examples still standing' } : {}),
    },
    run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): tf.Tensor4D {
      // A targeted criterion carries its own target: APGD-T is then the targeted DLR towards it.
      const perTarget = targetCount !== undefined && !criterion.targeted;
      const minClasses = settings.loss === 'dlr' ? (criterion.targeted || perTarget ? 4 : 3) : 2;
      if (model.numClasses < minClasses) {
        throw new UserError(`${name}${criterion.targeted ? ' (targeted)' : ''} needs a model with at least ${minClasses} classes, this one has ${model.numClasses}: use apgd-ce`);
      }
      if (perTarget) checkTargetCount(name, targetCount, model.numClasses);
      const n = x0.shape[0];
      // A zero budget leaves nothing to search: skip the gradients.
      if (eps <= 0 || n === 0) return tf.clone(x0);
      const indices = ctx.indices ?? Int32Array.from({ length: n }, (_, i) => i);
      let source: tf.Tensor1D | undefined;
      if (settings.loss === 'dlr' && criterion.targeted) {
        // The targeted DLR needs the class to leave; the criterion only carries targets.
        source = tf.tidy(() => tf.cast(tf.argMax(model.logits(x0), 1), 'int32') as tf.Tensor1D);
        ctx.costs.queries += n;
      }
      // APGD-T: one run per target rank, each ranked from the clean logits.
      let targetRanks: (Int32Array | undefined)[] = [undefined];
      if (perTarget) {
        const clean = tidyValue(() => model.logits(x0));
        ctx.costs.queries += n;
        targetRanks = topOtherClasses(clean, criterion.labels.dataSync(), model.numClasses, targetCount);
      }

      let best = tf.clone(x0);
      const fooled = new Uint8Array(n);
      const bestLoss = new Float32Array(n).fill(-Infinity);
      try {
        let runIndex = 0;
        for (const ranked of targetRanks) {
          for (let restart = 0; restart < settings.restarts; restart++, runIndex++) {
            const standing = Array.from(fooled.keys()).filter((i) => !fooled[i]);
            if (standing.length === 0) break;
            const sub = standing.length < n;
            const objective: Objective = {
              loss: settings.loss,
              targeted: criterion.targeted,
              labels: sub ? takeRows(criterion.labels, standing) : criterion.labels,
              ...(source ? { source: sub ? takeRows(source, standing) : source } : {}),
              ...(ranked ? { target: tf.tensor1d(Int32Array.from(standing, (i) => ranked[i]!), 'int32') } : {}),
            };
            const xs = sub ? takeRows(x0, standing) : x0;
            // ctx.seed is passed again as a salt: an older deriveSeed dropped its base argument. It
            // no longer does; the salt stays so that APGD's draws, and recorded results, stay the same.
            // runIndex = restart without targets, so plain APGD keeps its seeds.
            const seeds = exampleSeeds(ctx.seed, standing.length, Int32Array.from(standing, (i) => indices[i]!), ctx.seed, runIndex);
            const result = singleRun(model, xs, objective, eps, seeds, { ...run, run: runIndex }, ctx);
            if (sub) tf.dispose([xs, objective.labels, ...(objective.source ? [objective.source] : [])]);
            objective.target?.dispose();

            // Per example the worst case so far: a fooling run wins, else the higher loss.
            const replace = standing.map((i, k) => result.success[k] === 1 || result.loss[k]! > bestLoss[i]!);
            standing.forEach((i, k) => {
              if (!replace[k]) return;
              fooled[i] = result.success[k]!;
              bestLoss[i] = result.loss[k]!;
            });
            const merged = mergeRows(best, result.x, standing, replace);
            tf.dispose([best, result.x]);
            best = merged;
          }
        }
      } finally {
        source?.dispose();
      }
      return best;
    },
  };
}
