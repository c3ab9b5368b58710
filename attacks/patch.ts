import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { parseEpsList } from '../src/parse.js';
import { deriveSeed, makeRng } from '../src/tensor/random.js';
import { exactSign } from '../src/tensor/norms.js';
import { patch as patchNorm, patchSide } from '../src/tensor/sparse-norms.js';
import type { Attack } from '../src/types.js';
import { FIT_BATCH, universalAttack, type Placement } from './universal.js';

/**
 * Adversarial patch — Brown, Mané, Roy, Abadi & Gilmer, "Adversarial Patch", 2017
 * (arXiv:1712.09665), untargeted: one square patch of area ε (fraction of the image; side
 * ⌊√(ε·h·w)⌋ pixels, so never more than ε) that replaces the pixels under it. Fitted by
 * expectation over transformation restricted to placement: each minibatch of the fit set gets a
 * fresh random position per image, and the patch ascends the mean cross-entropy by signed steps
 * of range/20 (clipped to the box), from uniform noise. Evaluated at a random position per example
 * (`placement: 'random'`, from the run's seed and the example's index) or, with 'fixed', fitted and
 * evaluated at the image's centre. Brown et al. also vary rotation and scale; here only position.
 */
export type Placement_ = 'random' | 'fixed';
export const PLACEMENTS: readonly Placement_[] = ['random', 'fixed'];

export interface PatchOptions {
  placement?: Placement_;
  /** Passes over the fit set. */
  epochs?: number;
}

/** Tags the evaluation placements' streams. */
const PLACE_SALT = 0x9a;

function centre(h: number, w: number, s: number): Placement {
  return { top: Math.floor((h - s) / 2), left: Math.floor((w - s) / 2) };
}

/** Replaces an s×s square of each image by the patch; differentiable in the patch. */
function place(x: tf.Tensor4D, p: tf.Tensor, placements: Placement[]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const s = p.shape[1]!;
  if (s === 0) return x;
  const mask = new Float32Array(n * h * w * c);
  placements.forEach(({ top, left }, i) => {
    for (let r = top; r < top + s; r++) mask.fill(1, ((i * h + r) * w + left) * c, ((i * h + r) * w + left + s) * c);
  });
  const square = tf.squeeze(p, [0]) as tf.Tensor3D;
  const padded = tf.stack(placements.map(({ top, left }) => tf.pad(square, [[top, h - s - top], [left, w - s - left], [0, 0]]))) as tf.Tensor4D;
  const m = tf.tensor4d(mask, x.shape);
  return tf.add(tf.mul(x, tf.sub(1, m)), tf.mul(padded, m)) as tf.Tensor4D;
}

export function adversarialPatch(options: PatchOptions = {}): Attack {
  const placement = options.placement ?? 'random';
  const epochs = options.epochs ?? 20;
  if (!PLACEMENTS.includes(placement)) throw new UserError(`--placement "${placement}": use random or fixed`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new UserError(`patch: epochs (--steps) must be a positive integer, got ${epochs}`);
  const where = (n: number, draw: () => number, shape: [number, number, number], eps: number): Placement[] => {
    const [h, w] = shape;
    const s = patchSide(eps, h, w);
    return Array.from({ length: n }, () => (placement === 'fixed' ? centre(h, w, s) : { top: Math.floor(draw() * (h - s + 1)), left: Math.floor(draw() * (w - s + 1)) }));
  };
  return universalAttack({
    name: 'patch',
    norm: patchNorm,
    config: { placement, epochs, batchSize: FIT_BATCH, stepSize: 'range/20, signed', loss: 'ce', eot: placement === 'random' ? 'random position per image and minibatch' : 'none (centre)', side: '⌊√(ε·h·w)⌋', fit: 'training split' },
    epochs,
    batchSize: FIT_BATCH,
    init: (shape, eps, { lower, upper }, rng) => {
      const s = patchSide(eps, shape[0], shape[1]);
      return tf.tensor4d(Float32Array.from({ length: s * s * shape[2] }, () => lower + (upper - lower) * rng()), [1, s, s, shape[2]]);
    },
    apply: (x, p, _eps, placements) => place(x, p, placements),
    step: (p, grad, _eps, { lower, upper }) => tf.tidy(() => tf.clipByValue(tf.add(p, tf.mul(exactSign(grad), (upper - lower) / 20)), lower, upper)),
    placements: where,
    evalPlacements: (ctx, n, shape, eps) => {
      const rows = Array.from({ length: n }, (_, i) => (ctx.indices ? ctx.indices[i]! : i));
      return rows.flatMap((index) => where(1, makeRng(deriveSeed(ctx.seed, PLACE_SALT, index)), shape, eps));
    },
    describe: (p) => ({ kind: 'patch', shape: p.shape.slice(1) as [number, number, number], pixels: Float32Array.from(p.dataSync()) }),
  });
}

/** --patch-size: the patch's area as a fraction of the image, in (0, 1]. */
export function parsePatchSize(text: string): number {
  const v = Number(text);
  if (!(text.trim() !== '' && Number.isFinite(v) && v > 0 && v <= 1)) throw new UserError(`--patch-size "${text}": give the patch's area as a fraction of the image in (0, 1], e.g. 0.1`);
  return v;
}

/**
 * The ε grid of a run with --patch-size: the patch size is the patch attack's ε, so it replaces
 * the default --eps; both given and different, or --patch-size without the patch attack, is refused.
 */
export function patchEpsilons(patchSize: string | undefined, eps: string, epsGiven: boolean, attack: string): number[] {
  if (patchSize === undefined) return parseEpsList(eps);
  const size = parsePatchSize(patchSize);
  if (!attack.split(',').map((s) => s.trim()).includes('patch')) throw new UserError(`--patch-size applies to --attack patch, not ${attack}: drop it or use --attack patch`);
  if (epsGiven && !(parseEpsList(eps).length === 1 && parseEpsList(eps)[0] === size)) throw new UserError(`--patch-size ${patchSize} is the patch attack's ε: drop --eps ${eps} (or give the sizes as --eps 0.05,0.1)`);
  return [size];
}
