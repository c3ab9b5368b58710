import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import { deriveSeed, makeRng } from '../src/tensor/random.js';
import type { Attack, AttackContext, Classifier } from '../src/types.js';

/**
 * Input diversity — Xie, Zhang, Zhou, Bai, Wang, Ren & Yuille, "Improving Transferability of
 * Adversarial Examples with Input Diversity", CVPR 2019 (arXiv:1803.06978): before each gradient
 * the image is, with probability p, resized to a random side r and padded at a random offset.
 * The paper enlarges 299 → [299, 330) for a network that takes any size; models here take one
 * size, so, as torchattacks' DIFGSM does, the image shrinks to r ∈ [⌊0.9·H⌋, H) (and likewise W)
 * and is padded back to H×W with the box's lower bound. Bilinear, half-pixel centres.
 *
 * Each example draws its own transform per forward pass (keyed by the seed, its global index and
 * the pass), written as per-example row and column matrices so one batched matMul applies them.
 */

/** Side after shrinking, as torchattacks' resize_rate 0.9. */
const SHRINK = 0.9;

export function checkDiversityProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new UserError(`--input-diversity ${p}: give a probability in [0, 1], e.g. --input-diversity 0.5 (Xie et al.)`);
}

/** Rows of the matrix that shrinks `size` samples to `r` (bilinear, half-pixel) placed at `offset`. */
function resizeMatrix(out: Float32Array, base: number, size: number, r: number, offset: number): void {
  const scale = size / r;
  for (let d = 0; d < r; d++) {
    const src = Math.max(0, (d + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), size - 1);
    const i1 = Math.min(i0 + 1, size - 1);
    const w = src - i0;
    out[base + (d + offset) * size + i0]! += 1 - w;
    out[base + (d + offset) * size + i1]! += w;
  }
}

/** Identity rows for an example left as it is. */
function identity(out: Float32Array, base: number, size: number): void {
  for (let d = 0; d < size; d++) out[base + d * size + d] = 1;
}

/**
 * The classifier seen through input diversity: each call to logits draws new transforms.
 * `indices` are the global indices of the rows (when a call has another number of rows, e.g. a
 * restart on a subset, rows are keyed by position).
 */
export function diverseInputs(model: Classifier, p: number, seed: number, indices?: Int32Array): Classifier {
  checkDiversityProbability(p);
  const [h, w, c] = model.inputShape;
  const { lower } = model.bounds;
  let pass = 0;
  const draw = (n: number): { rows: tf.Tensor3D; cols: tf.Tensor3D } => {
    pass++;
    const rows = new Float32Array(n * h * h);
    const cols = new Float32Array(n * w * w);
    for (let i = 0; i < n; i++) {
      const key = indices && indices.length === n ? indices[i]! : i;
      const rng = makeRng(deriveSeed(seed, pass, key));
      if (rng() >= p) {
        identity(rows, i * h * h, h);
        identity(cols, i * w * w, w);
        continue;
      }
      const rh = Math.floor(SHRINK * h) + Math.floor(rng() * (h - Math.floor(SHRINK * h)));
      const rw = Math.floor(SHRINK * w) + Math.floor(rng() * (w - Math.floor(SHRINK * w)));
      resizeMatrix(rows, i * h * h, h, rh, Math.floor(rng() * (h - rh + 1)));
      resizeMatrix(cols, i * w * w, w, rw, Math.floor(rng() * (w - rw + 1)));
    }
    return { rows: tf.tensor3d(rows, [n, h, h]), cols: tf.tensor3d(cols, [n, w, w]) };
  };
  const transform = (x: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const n = x.shape[0];
      const { rows, cols } = draw(n);
      // Shifted so that padding (zeros of the matrices) is the box's lower bound.
      const shifted = tf.sub(x, lower);
      const byRows = tf.matMul(rows, tf.reshape(shifted, [n, h, w * c]));
      const transposed = tf.reshape(tf.transpose(tf.reshape(byRows, [n, h, w, c]), [0, 2, 1, 3]), [n, w, h * c]);
      const byCols = tf.matMul(cols, transposed);
      return tf.add(tf.transpose(tf.reshape(byCols, [n, w, h, c]), [0, 2, 1, 3]), lower) as tf.Tensor4D;
    });
  return {
    bounds: model.bounds,
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    ...(model.classNames ? { classNames: model.classNames } : {}),
    logits: (x) => tf.tidy(() => model.logits(transform(x))),
    describe: () => ({ ...(model.describe?.() ?? {}), inputDiversity: p }),
  };
}

/**
 * A gradient attack whose gradients are taken through input diversity with probability p
 * (`--input-diversity p`); the harness judges its output on the model itself.
 */
export function withInputDiversity(attack: Attack, p: number, name = `${attack.name}+di${p}`): Attack {
  checkDiversityProbability(p);
  if (attack.kind === 'black-box' || attack.fit) throw new UserError(`--input-diversity applies to gradient attacks, not ${attack.name}: drop it or use e.g. --attack bim`);
  return {
    name,
    norm: attack.norm,
    ...(attack.kind ? { kind: attack.kind } : {}),
    ...(attack.minimal ? { minimal: true } : {}),
    config: { ...attack.config, inputDiversity: p, diversity: 'shrink to [0.9·side, side), pad at a random offset (torchattacks DIFGSM)' },
    run: (model: Classifier, x, criterion, eps, ctx: AttackContext) => attack.run(diverseInputs(model, p, deriveSeed(ctx.seed, 0x0d1), ctx.indices), x, criterion, eps, ctx),
  };
}
