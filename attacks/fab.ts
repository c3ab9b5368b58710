import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { deriveSeed, makeRng, type Rng } from '../src/tensor/random.js';
import type { AttackContext, Classifier, Criterion, NormName, SyncAttack } from '../src/types.js';
import { checkTargetCount, topOtherClasses } from './apgd.js';
import { dualNormOf, normOf, PROJECTIONS, type FabNorm } from './fab-projections.js';
import { resolveNorm } from './options.js';
import { l1 } from '../src/tensor/l1-norm.js';
import { tidyInts, tidyValue, tidyValues } from '../src/tensor/read.js';

/**
 * FAB — Croce & Hein, "Minimally distorted adversarial examples with a fast adaptive boundary
 * attack", ICML 2020 (arXiv:1907.02044), untargeted and targeted (FAB-T, as in autoattack).
 *
 * Each iteration linearises the decision boundary at the current point x: untargeted, the class
 * j ≠ y whose linearised boundary f_j − f_y = 0 is nearest (|f_j − f_y| / ‖∇f_j − ∇f_y‖_q, q the
 * dual norm); FAB-T, the one target class. It projects both x and the original x0 onto that
 * hyperplane within the box (d1, d2: exact minimal-norm projections, fab-projections.ts) and
 * moves to x ← clip((x + η·d1)(1 − α) + (x0 + η·d2)·α), α = min(‖d1‖/(‖d1‖ + ‖d2‖), α_max): a
 * step biased towards the original point, extrapolated by η. When x is adversarial, the smallest
 * such x so far is kept and x steps back towards x0: x ← x0 + β(x − x0).
 *
 * Norms L∞, L2 and L1 (the reference's three; L1's projection moves the coordinates with the
 * largest |w_i| first, each to its bound, fab-projections.ts).
 * Defaults as in the paper and autoattack: 100 iterations, α_max = 0.1, η = 1.05, β = 0.9, one
 * restart. As in autoattack's FABAttack.perturb, the first run starts at x0 and later restarts at
 * x0 + ε/2 · a random direction of unit norm (uniform then rescaled for L∞, Gaussian for L2 and L1);
 * FAB-T runs once per target — the `targets` classes with the highest clean logits other than the
 * true one — and success means misclassified (not necessarily as the target). Against a budget
 * ε, each run attacks only the examples not yet fooled within ε, and an example FAB could not
 * fool within ε is returned unchanged. An untargeted iteration costs one gradient per class
 * (the Jacobian), FAB-T's one, plus one forward pass for the check.
 */
export interface FabOptions {
  norm?: NormName;
  steps?: number;
  restarts?: number;
  /** FAB-T: one run per target class, the `targets` highest clean logits other than the true one. */
  targets?: number;
  alphaMax?: number;
  eta?: number;
  beta?: number;
}

type FabSettings = Required<Omit<FabOptions, 'targets' | 'norm'>> & { norm: FabNorm; targets?: number };

/** Tags FAB's random streams apart from other users of the same seed. */
const SEED_SALT = 0xfab;
/** Floats of one Jacobian chunk (examples × classes × pixels), to bound memory on large inputs. */
const JACOBIAN_FLOATS = 1 << 22;

/** Per example of a batch, the smallest adversarial point FAB found and its distance (Infinity if none). */
export interface FabResult {
  /** Row-major pixels, the original point where nothing was found. */
  adv: Float32Array;
  distance: Float32Array;
}

interface Linearisation {
  /** Per example: f_j − f_y at x for every class (untargeted) or the target (one column). */
  df: Float32Array;
  /** ∇(f_j − f_y), [columns][example][pixel]. */
  dg: Float32Array[];
  columns: number;
}

/**
 * The differences of logits and of their gradients at x. Untargeted: the whole Jacobian, from x
 * tiled once per class with a one-hot upstream gradient per copy (one backward pass for all).
 */
function linearise(model: Classifier, x: Float32Array, m: number, labels: Int32Array, targets: Int32Array | undefined, ctx: AttackContext): Linearisation {
  const shape = model.inputShape;
  const d = shape[0] * shape[1] * shape[2];
  const k = model.numClasses;
  if (targets) {
    const [grad, value] = tidyValues(() => {
      const input = tf.tensor4d(x, [m, ...shape]);
      const y = tf.tensor1d(labels, 'int32');
      const t = tf.tensor1d(targets, 'int32');
      const f = (z: tf.Tensor): tf.Tensor => {
        const logits = model.logits(z as tf.Tensor4D);
        const diff = tf.sub(tf.sum(tf.mul(logits, tf.oneHot(t, k)), 1), tf.sum(tf.mul(logits, tf.oneHot(y, k)), 1));
        return tf.expandDims(diff, 1);
      };
      const { value, grad } = tf.valueAndGrad(f)(input);
      return [grad, value];
    });
    ctx.costs.gradients += m;
    // tidyValues hands back fresh arrays: no copy needed.
    return { df: value, dg: [grad], columns: 1 };
  }
  const df = new Float32Array(m * k);
  const jac = Array.from({ length: k }, () => new Float32Array(m * d));
  const chunk = Math.max(1, Math.floor(JACOBIAN_FLOATS / (k * d)));
  for (let start = 0; start < m; start += chunk) {
    const rows = Math.min(chunk, m - start);
    const [grad, logits] = tidyValues(() => {
      const input = tf.tensor4d(x.subarray(start * d, (start + rows) * d), [rows, ...shape]);
      const tiled = tf.tile(input, [k, 1, 1, 1]);
      // Copy c of every example receives the upstream gradient of logit c.
      const dy = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from({ length: k * rows }, (_, r) => Math.floor(r / rows)), 'int32'), k), 'float32');
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor): tf.Tensor => model.logits(z as tf.Tensor4D))(tiled, dy);
      return [grad, tf.slice(value, [0, 0], [rows, k])];
    });
    for (let c = 0; c < k; c++) jac[c]!.set(grad!.subarray(c * rows * d, (c + 1) * rows * d), start * d);
    for (let i = 0; i < rows; i++) {
      const y = labels[start + i]!;
      for (let c = 0; c < k; c++) df[(start + i) * k + c] = logits![i * k + c]! - logits![i * k + y]!;
    }
  }
  ctx.costs.gradients += m * k;
  // ∇f_j − ∇f_y per example.
  const dg = Array.from({ length: k }, () => new Float32Array(m * d));
  for (let i = 0; i < m; i++) {
    const gy = jac[labels[i]!]!.subarray(i * d, (i + 1) * d);
    for (let c = 0; c < k; c++) {
      const out = dg[c]!.subarray(i * d, (i + 1) * d);
      const gc = jac[c]!.subarray(i * d, (i + 1) * d);
      for (let p = 0; p < d; p++) out[p] = gc[p]! - gy[p]!;
    }
  }
  return { df, dg, columns: k };
}

function predictions(model: Classifier, x: Float32Array, m: number, ctx: AttackContext): Int32Array {
  const out = tidyInts(() => tf.argMax(model.logits(tf.tensor4d(x, [m, ...model.inputShape])), 1));
  ctx.costs.queries += m;
  return Int32Array.from(out);
}

/** A standard normal draw (Box–Muller) from a uniform stream. */
function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * One FAB run on m examples (attack_single_run of the reference) from the point `start`.
 * Returns the smallest adversarial point found and its norm.
 */
function singleRun(model: Classifier, x0: Float32Array, start: Float32Array, labels: Int32Array, targets: Int32Array | undefined, s: FabSettings, ctx: AttackContext): FabResult {
  const m = labels.length;
  const [h, w, c] = model.inputShape;
  const d = h * w * c;
  const { lower, upper } = model.bounds;
  const clip = (v: number): number => Math.min(Math.max(v, lower), upper);
  const project = PROJECTIONS[s.norm];
  const x = Float32Array.from(start);
  const adv = Float32Array.from(x0);
  const distance = new Float32Array(m).fill(Infinity);

  for (let iteration = 0; iteration < s.steps; iteration++) {
    const lin = linearise(model, x, m, labels, targets, ctx);
    for (let i = 0; i < m; i++) {
      // The nearest linearised boundary.
      let best = 0;
      let bestDist = Infinity;
      for (let j = 0; j < lin.columns; j++) {
        if (!targets && j === labels[i]) continue;
        const g = lin.dg[j]!.subarray(i * d, (i + 1) * d);
        const dist = Math.abs(lin.df[i * lin.columns + j]!) / (dualNormOf(g, s.norm) + 1e-12);
        if (dist < bestDist) {
          bestDist = dist;
          best = j;
        }
      }
      const g = lin.dg[best]!.subarray(i * d, (i + 1) * d);
      const xi = x.subarray(i * d, (i + 1) * d);
      const x0i = x0.subarray(i * d, (i + 1) * d);
      // Hyperplane g·z = b: the linearisation f + g·(z − x) = 0.
      let b = -lin.df[i * lin.columns + best]!;
      for (let p = 0; p < d; p++) b += g[p]! * xi[p]!;
      const d1 = project(xi, g, b, lower, upper);
      const d2 = project(x0i, g, b, lower, upper);
      const a1 = Math.max(normOf(d1, s.norm), 1e-8);
      const a2 = Math.max(normOf(d2, s.norm), 1e-8);
      const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), s.alphaMax);
      for (let p = 0; p < d; p++) xi[p] = clip((xi[p]! + s.eta * d1[p]!) * (1 - alpha) + (x0i[p]! + s.eta * d2[p]!) * alpha);
    }
    const predicted = predictions(model, x, m, ctx);
    for (let i = 0; i < m; i++) {
      if (predicted[i] === labels[i]) continue;
      const xi = x.subarray(i * d, (i + 1) * d);
      const x0i = x0.subarray(i * d, (i + 1) * d);
      const delta = Float32Array.from(xi, (v, p) => v - x0i[p]!);
      const t = normOf(delta, s.norm);
      if (t < distance[i]!) {
        distance[i] = t;
        adv.set(xi, i * d);
      }
      // Back towards x0, to look for a closer boundary point.
      for (let p = 0; p < d; p++) xi[p] = x0i[p]! + s.beta * delta[p]!;
    }
  }
  return { adv, distance };
}

function checkOptions(name: string, s: FabSettings): void {
  if (!Number.isInteger(s.steps) || s.steps < 1) throw new UserError(`${name}: steps must be a positive integer, got ${s.steps}`);
  if (!Number.isInteger(s.restarts) || s.restarts < 1) throw new UserError(`${name}: restarts must be a positive integer, got ${s.restarts}`);
  if (s.targets !== undefined && !(Number.isInteger(s.targets) && s.targets >= 1)) throw new UserError(`${name}: --targets must be a positive integer, got ${s.targets}`);
  if (!(s.alphaMax >= 0 && s.alphaMax <= 1)) throw new UserError(`${name}: alphaMax must be in [0, 1], got ${s.alphaMax}`);
  if (!(s.eta >= 1)) throw new UserError(`${name}: eta must be at least 1, got ${s.eta}`);
  if (!(s.beta > 0 && s.beta < 1)) throw new UserError(`${name}: beta must be in (0, 1), got ${s.beta}`);
}

function settingsOf(options: FabOptions, norm: FabNorm): FabSettings {
  return {
    norm,
    steps: options.steps ?? 100,
    restarts: options.restarts ?? 1,
    alphaMax: options.alphaMax ?? 0.1,
    eta: options.eta ?? 1.05,
    beta: options.beta ?? 0.9,
    ...(options.targets !== undefined ? { targets: options.targets } : {}),
  };
}

/**
 * A restart's starting point (autoattack): x0 + r/2 · a random direction of unit norm, r = the
 * smaller of ε and the smallest perturbation found so far, clipped to the box.
 */
function randomStart(x0: Float32Array, radius: number, rng: Rng, norm: FabNorm, lower: number, upper: number): Float32Array {
  const noise = Float64Array.from({ length: x0.length }, () => (norm === 'linf' ? 2 * rng() - 1 : gaussian(rng)));
  const size = normOf(noise, norm) || 1;
  return Float32Array.from(x0, (v, p) => Math.min(Math.max(v + (radius * noise[p]!) / size / 2, lower), upper));
}

/**
 * FAB's search over its restarts (and targets, for FAB-T) on row-major pixels. With a budget eps,
 * each run attacks only the examples not yet fooled within eps (autoattack's perturb); without
 * one, every run attacks every example and the smallest perturbation is kept.
 */
function search(model: Classifier, x0: Float32Array, labels: Int32Array, s: FabSettings, eps: number | undefined, ctx: AttackContext, name: string): FabResult {
  const n = labels.length;
  const d = model.inputShape[0] * model.inputShape[1] * model.inputShape[2];
  const { lower, upper } = model.bounds;
  if (model.numClasses < 2) throw new UserError(`${name} needs a model with at least 2 classes, this one has ${model.numClasses}`);
  if (s.targets !== undefined) checkTargetCount(name, s.targets, model.numClasses);
  const indices = ctx.indices ?? Int32Array.from({ length: n }, (_, i) => i);
  const out: FabResult = { adv: Float32Array.from(x0), distance: new Float32Array(n).fill(Infinity) };
  if (n === 0) return out;
  let ranks: (Int32Array | undefined)[] = [undefined];
  if (s.targets !== undefined) {
    const clean = tidyValue(() => model.logits(tf.tensor4d(x0, [n, ...model.inputShape])));
    ctx.costs.queries += n;
    ranks = topOtherClasses(clean, labels, model.numClasses, s.targets);
  }
  let run = 0;
  for (const ranked of ranks) {
    for (let restart = 0; restart < s.restarts; restart++, run++) {
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => eps === undefined || !(out.distance[i]! <= eps));
      if (rows.length === 0) return out;
      const sub = new Float32Array(rows.length * d);
      const start = new Float32Array(rows.length * d);
      rows.forEach((r, k) => {
        const xr = x0.subarray(r * d, (r + 1) * d);
        sub.set(xr, k * d);
        const radius = Math.min(out.distance[r]!, eps ?? Infinity);
        // The first run starts at x0; so does a restart with no scale yet (no budget, nothing found).
        const random = restart > 0 && Number.isFinite(radius);
        start.set(random ? randomStart(xr, radius, makeRng(deriveSeed(ctx.seed, SEED_SALT, indices[r]!, run)), s.norm, lower, upper) : xr, k * d);
      });
      const result = singleRun(model, sub, start, Int32Array.from(rows, (r) => labels[r]!), ranked ? Int32Array.from(rows, (r) => ranked[r]!) : undefined, s, ctx);
      rows.forEach((r, k) => {
        if (!(result.distance[k]! < out.distance[r]!)) return;
        out.distance[r] = result.distance[k]!;
        out.adv.set(result.adv.subarray(k * d, (k + 1) * d), r * d);
      });
    }
  }
  return out;
}

/**
 * FAB as a minimal-perturbation search: per example the smallest adversarial perturbation found
 * over every restart (and target) and its norm, Infinity where none was found.
 */
export function fabMinimal(model: Classifier, x0: tf.Tensor4D, labels: tf.Tensor1D, options: FabOptions = {}, ctx: AttackContext = { seed: 0, costs: { gradients: 0, queries: 0 } }): { adv: tf.Tensor4D; distance: Float32Array } {
  const s = settingsOf(options, fabNorm(options.norm));
  const found = search(model, x0.dataSync() as Float32Array, Int32Array.from(labels.dataSync()), s, undefined, ctx, fabName(s));
  return { adv: tf.tensor4d(found.adv, x0.shape), distance: found.distance };
}

function fabNorm(norm: NormName | undefined): FabNorm {
  // resolveNorm refuses l1 and the sparse norms, so its name is linf or l2.
  return norm === 'l1' ? 'l1' : (resolveNorm(norm, 'linf').name as 'linf' | 'l2');
}

function fabName(s: FabSettings): string {
  return `${s.targets !== undefined ? 'fab-t' : 'fab'}${s.norm === 'linf' ? '' : `-${s.norm}`}`;
}

export function fab(options: FabOptions = {}): SyncAttack {
  const s = settingsOf(options, fabNorm(options.norm));
  const norm = s.norm === 'l1' ? l1 : resolveNorm(s.norm, 'linf');
  const name = fabName(s);
  checkOptions(name, s);
  return {
    name,
    norm,
    kind: 'iterative',
    config: {
      ...s,
      start: 'x0, later restarts x0 + ε/2·random unit direction (autoattack)',
      ...(s.targets !== undefined ? { targetsBy: 'clean logits, highest first, true class excluded; one run per target on the examples still standing' } : {}),
      returns: 'the smallest adversarial point found within ε, else the original',
    },
    run(model: Classifier, x0: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): tf.Tensor4D {
      if (criterion.targeted) {
        throw new UserError(`${name} is untargeted (success = misclassified; fab-t chooses its own targets with --targets K): drop --targeted`);
      }
      if (eps <= 0 || x0.shape[0] === 0) return tf.clone(x0);
      const found = search(model, x0.dataSync() as Float32Array, Int32Array.from(criterion.labels.dataSync()), s, eps, ctx, name);
      // Beyond the budget counts as not found: the original goes back, as in autoattack.
      const d = found.adv.length / x0.shape[0];
      const data = x0.dataSync();
      found.distance.forEach((t, i) => {
        if (!(t <= eps)) found.adv.set(data.subarray(i * d, (i + 1) * d), i * d);
      });
      return tf.tensor4d(found.adv, x0.shape);
    },
  };
}
