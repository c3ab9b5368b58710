import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAttack, sparseRs, sparseRsFraction } from '../../attacks/index.js';
import { sparseRsSearch } from '../../attacks/sparse-rs.js';
import { UserError } from '../../src/errors.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { finalizeAdversarial } from '../../src/tensor/finalize.js';
import { l0, patch, patchSide } from '../../src/tensor/sparse-norms.js';
import { useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';
import { linearClassifier } from '../helpers/models.js';

beforeAll(useTestBackend);

describe('the α schedule (reference p_selection for L0, rescaled to the budget)', () => {
  it('divides α_init by 2, 4, 5, 6, 8, 10, 12, 15, 20 after 0, 50, 200, … of 10 000', () => {
    expect(sparseRsFraction(0, 10000, 0.3)).toBe(0.3);
    expect(sparseRsFraction(1, 10000, 0.3)).toBe(0.15);
    expect(sparseRsFraction(50, 10000, 0.3)).toBe(0.15);
    expect(sparseRsFraction(51, 10000, 0.3)).toBe(0.075);
    expect(sparseRsFraction(201, 10000, 0.3)).toBeCloseTo(0.06, 12);
    expect(sparseRsFraction(8001, 10000, 0.3)).toBeCloseTo(0.015, 12);
    // 1,000 queries: iteration t counts as 10·t.
    expect(sparseRsFraction(5, 1000, 0.3)).toBe(0.15);
    expect(sparseRsFraction(6, 1000, 0.3)).toBe(0.075);
  });
});

describe('the l0 and patch threat models', () => {
  it('counts a location once whatever its channels, and projects onto the k largest changes', () => {
    const x0 = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    // Location 0: all three channels by 0.1 (squared 0.03); location 1: one channel by 0.5 (0.25); location 3: 0.2 (0.04).
    const x = tf.tensor4d([0.1, 0.1, 0.1, 0, 0.5, 0, 0, 0, 0, 0.2, 0, 0], [1, 2, 2, 3]);
    expect(Array.from(l0.distance(x, x0).dataSync())).toEqual([3]);
    const p = l0.project(x, x0, 2);
    expect(Array.from(p.dataSync())).toEqual(Array.from(Float32Array.from([0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.2, 0, 0])));
    tf.dispose([x0, x, p]);
  });

  it('finalize leaves at most k changed pixels and verifies it', () => {
    const x0 = tf.fill([2, 3, 3, 1], 0.5) as tf.Tensor4D;
    const raw = tf.tidy(() => tf.add(x0, tf.randomUniform([2, 3, 3, 1], -0.5, 0.5, 'float32', 4))) as tf.Tensor4D;
    const out = finalizeAdversarial(raw, x0, 4, l0, { lower: 0, upper: 1 }, 'test');
    expect(Array.from(l0.distance(out, x0).dataSync())).toEqual([4, 4]);
    tf.dispose([x0, raw, out]);
  });

  it('patch: ε = area of the square that holds every change; projection keeps the best window', () => {
    expect(patchSide(0.1, 28, 28)).toBe(8); // ⌊√78.4⌋: 64 pixels = 8.2% ≤ 10%
    const x0 = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    // Changes at (0,0) = 0.3 and (3,3) = 0.9: smallest square holding both has side 4.
    const x = tf.tensor4d(Float32Array.from({ length: 16 }, (_, i) => (i === 0 ? 0.3 : i === 15 ? 0.9 : 0)), [1, 4, 4, 1]);
    expect(patch.distance(x, x0).dataSync()[0]).toBe(1);
    // ε = 4/16: a 2×2 window; the one over (3,3) keeps more change.
    const p = finalizeAdversarial(x, x0, 0.25, patch, { lower: 0, upper: 1 }, 'test');
    expect(Array.from(p.dataSync())).toEqual(Array.from(Float32Array.from({ length: 16 }, (_, i) => (i === 15 ? 0.9 : 0))));
    expect(patch.distance(p, x0).dataSync()[0]).toBe(1 / 16);
    tf.dispose([x0, x, p]);
  });

  it('gradient attacks refuse the sparse norms instead of computing another norm', () => {
    // fmn has an l0 version (gradient-based, tested in fmn-l1-l0.test.ts).
    for (const name of ['pgd', 'fgsm', 'apgd-ce', 'deepfool', 'fab', 'square', 'cw-l2']) {
      expect(() => makeAttack(name, { norm: 'l0' }), name).toThrow(UserError);
    }
    expect(() => makeAttack('sparse-rs', { norm: 'linf' })).toThrow(/--norm l0/);
    expect(makeAttack('sparse-rs', { norm: 'l0' }).norm.name).toBe('l0');
  });
});

/**
 * Two classes, z₀ = w·x + b, z₁ = 0, on a 3×3 grey image of 0.5 everywhere (label 0). Setting
 * pixel i to a corner lowers the margin z₀ − z₁ by at most |wᵢ|·0.5 (to 0 where wᵢ > 0, to 1 where
 * wᵢ < 0), so the best k-pixel change lowers it by the sum of the k largest of
 * 0.5·|w| = 2, 1.5, 1, 0.5, 0.25, 0.125, 0.125, 0.05, 0.05. The clean margin is 0.5·Σw + b =
 * 1.25 + b: b = 0.5 → 1.75 (one pixel suffices: 2 > 1.75), 1.75 → 3 (two: 3.5), 2.75 → 4
 * (three: 4.5), 3.5 → 4.75 (four: 5). With fewer pixels no attack can fool it.
 */
const W = [4, -3, 2, -1, 0.5, 0.25, -0.25, 0.1, -0.1];
const CASES: [number, number][] = [
  [0.5, 1],
  [1.75, 2],
  [2.75, 3],
  [3.5, 4],
];

describe('Sparse-RS on a linear model (the best k-pixel change in closed form)', () => {
  it.each(CASES)('bias %s: broken exactly from k = %s pixels on', async (b, kStar) => {
    const model = linearClassifier([W, W.map(() => 0)], [b, 0], [3, 3, 1]);
    // Three copies: three random streams.
    const data = tinyDataset([0, 1, 2].map(() => W.map(() => 0.5)), [0, 0, 0], [3, 3, 1]);
    const report = await evaluate(model, data, [sparseRs({ queries: 300 })], [1, 2, 3, 4], { seed: 5, probes: false });
    model.dispose();
    expect(report.clean.correct).toBe(3);
    expect(report.results.map((r) => r.correct)).toEqual([1, 2, 3, 4].map((k) => (k < kStar ? 3 : 0)));
  });

  it('is deterministic in the seed and queries only while standing', async () => {
    const model = linearClassifier([W, W.map(() => 0)], [1.75, 0], [3, 3, 1]);
    const x = tf.fill([2, 3, 3, 1], 0.5) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 0], 'int32');
    const run = async () => {
      const ctx = { seed: 3, costs: { gradients: 0, queries: 0 } };
      const adv = await sparseRs({ queries: 200 }).run(model, x, { labels, targeted: false }, 2, ctx);
      const values = Array.from(adv.dataSync());
      adv.dispose();
      return { values, ctx };
    };
    const [a, b] = [await run(), await run()];
    expect(a.values).toEqual(b.values);
    expect(a.ctx.costs.gradients).toBe(0);
    // Fooled before the budget ran out: fewer than 2 × 200 queries.
    expect(a.ctx.costs.queries).toBeLessThan(400);
    tf.dispose([x, labels]);
    model.dispose();
  });
});

/**
 * Targeted, on three classes over the same 3×3 grey image (label 0, z₀ = 0): z₁ = 10(x₈ − 0.5) − 0.5
 * breaks the untargeted attack with one pixel (x₈ → 1 gives z₁ = 4.5); z₂ = w·x + b with w = W
 * but w₈ = 0 gains at most 2, 1.5, 1, 0.5, … per pixel (x₈ untouched), so from z₂ = −2.5
 * (b = −3.8) reaching class 2 takes two pixels (3.5 > 2.5), never one (2 < 2.5, and moving x₈
 * only helps class 1).
 */
describe('targeted Sparse-RS', () => {
  const W2 = [...W.slice(0, 8), 0];
  const make = () =>
    linearClassifier(
      [W.map(() => 0), [0, 0, 0, 0, 0, 0, 0, 0, 10], W2],
      [0, -5.5, -3.8],
      [3, 3, 1],
    );
  const predictAfter = async (targeted: boolean, eps: number, attack = sparseRs({ queries: 300 })) => {
    const model = make();
    const x = tf.fill([3, 3, 3, 1], 0.5) as tf.Tensor4D;
    const labels = tf.tensor1d(targeted ? [2, 2, 2] : [0, 0, 0], 'int32');
    const ctx = { seed: 4, costs: { gradients: 0, queries: 0 } };
    const adv = await attack.run(model, x, { labels, targeted }, eps, ctx);
    const predicted = Array.from(tf.tidy(() => tf.argMax(model.logits(adv), 1).dataSync()));
    tf.dispose([x, labels, adv]);
    model.dispose();
    return { predicted, queries: ctx.costs.queries };
  };

  it('untargeted, one pixel reaches class 1', async () => {
    expect((await predictAfter(false, 1)).predicted).toEqual([1, 1, 1]);
  });

  it('reaches the target from exactly two pixels on, and spends the whole budget where it cannot', async () => {
    const one = await predictAfter(true, 1);
    expect(one.predicted.some((p) => p === 2)).toBe(false);
    expect(one.queries).toBe(3 * 300);
    expect((await predictAfter(true, 2)).predicted).toEqual([2, 2, 2]);
  });

  it('through the harness with --targeted 2: success at 2 and 3 pixels, none at 1', async () => {
    const model = make();
    const data = tinyDataset([0, 1, 2].map(() => W.map(() => 0.5)), [0, 0, 0], [3, 3, 1], 3);
    const report = await evaluate(model, data, [makeAttack('sparse-rs', { steps: 300 })], [1, 2, 3], { seed: 5, probes: false, target: 2 });
    model.dispose();
    expect(report.results.map((r) => r.success.rate)).toEqual([0, 1, 1]);
    expect(report.config.attacks[0]!.config.targeted).toMatch(/CE to the target, α_init = 0.1/);
  });
});

describe('the search a run uses (targeted: the reference\'s CE and α_init = 0.1)', () => {
  it('untargeted: margin, α_init 0.3 or the options; targeted: CE, α_init 0.1 unless given', () => {
    expect(sparseRsSearch(false)).toEqual({ loss: 'margin', alphaInit: 0.3 });
    expect(sparseRsSearch(false, { loss: 'ce', alphaInit: 0.2 })).toEqual({ loss: 'ce', alphaInit: 0.2 });
    expect(sparseRsSearch(true, { loss: 'margin' })).toEqual({ loss: 'ce', alphaInit: 0.1 });
    expect(sparseRsSearch(true, { alphaInit: 0.2 })).toEqual({ loss: 'ce', alphaInit: 0.2 });
  });

  /**
   * The first candidate moves m = max(⌊α_init/2 · k⌋, 1) of the k perturbed locations: each one
   * moved is restored to grey 0.5 and a new one is set to a corner, so the candidate differs from
   * the start in 2m locations. k = 20: untargeted α_init 0.3 → m = 3 (6 locations), targeted 0.1 → m = 1 (2).
   */
  it('moves as many locations as its α_init says, seen in the images it queries', async () => {
    const changedInFirstCandidate = async (targeted: boolean): Promise<number> => {
      // Class 0 far ahead of the others whatever the pixels: nothing is fooled, the search goes on.
      const base = linearClassifier([Array(100).fill(0), Array(100).fill(0.01), Array(100).fill(-0.01)], [50, 0, 0], [10, 10, 1]);
      const queried: Float32Array[] = [];
      const model = { ...base, logits: (x: tf.Tensor4D) => (queried.push(Float32Array.from(x.dataSync())), base.logits(x)) };
      const x = tf.fill([1, 10, 10, 1], 0.5) as tf.Tensor4D;
      const labels = tf.tensor1d([targeted ? 1 : 0], 'int32');
      const adv = await sparseRs({ queries: 1000 }).run(model, x, { labels, targeted }, 20, { seed: 3, costs: { gradients: 0, queries: 0 } });
      tf.dispose([x, labels, adv]);
      base.dispose();
      const [start, candidate] = [queried[0]!, queried[1]!];
      return start.filter((v, p) => v !== candidate[p]).length;
    };
    expect(await changedInFirstCandidate(false)).toBe(6);
    expect(await changedInFirstCandidate(true)).toBe(2);
  });
});
