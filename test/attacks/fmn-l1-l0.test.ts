import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fmn, makeAttack } from '../../attacks/index.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { l1 } from '../../src/tensor/l1-norm.js';
import { l0 } from '../../src/tensor/sparse-norms.js';
import type { Attack, Classifier } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';
import { linearClassifier } from '../helpers/models.js';

/**
 * Figures worked out by hand on a binary linear model, z0 = 0, z1 = w·x + b, w = (1, −2, 0.5, 3),
 * every pixel of an example at v (class 0 while f = 2.5v + b < 0).
 *
 * L1: the cheapest change per unit of f is the largest |w_i| (w₃ = 3), so with room enough
 * the minimal L1 perturbation is |f|/3. b = −1.85, v = 0.5, 0.4, 0.6: f = −0.6, −0.85, −0.35
 * → 0.2, 0.283333, 0.116667 (x₃ rises by that much, well inside the box).
 *
 * L0: the fewest pixels, each moved to the bound that helps (x₀, x₂, x₃ up to 1, x₁ down to 0):
 * gains (1−v), 2v, 0.5(1−v), 3(1−v). b = −3.8: v = 0.95 → f = −1.425, x₁ alone gains 1.9: 1 pixel;
 * v = 0.7 → f = −2.05, best single gain 1.4 (x₁), two (x₁ + x₃ = 2.3): 2 pixels; v = 0.5 →
 * f = −2.55, gains 1.5, 1.0, 0.5, 0.25: two give 2.5, three 3.0: 3 pixels.
 */
const SHAPE: [number, number, number] = [2, 2, 1];
const W = [
  [0, 0, 0, 0],
  [1, -2, 0.5, 3],
];
const L1_ROWS = [0.5, 0.4, 0.6];
const L1_MIN = [0.2, 0.85 / 3, 0.35 / 3];
const L0_ROWS = [0.95, 0.7, 0.5];
const L0_MIN = [1, 2, 3];

const rows = (values: number[]) => values.map((v) => [v, v, v, v]);

/** Runs an attack directly; per example the distance in `norm` and whether it left class 0. */
function run(model: Classifier, attack: Attack, values: number[]): { distance: number[]; fooled: boolean[] } {
  const x = tf.tensor4d(rows(values).flat(), [values.length, ...SHAPE]);
  const labels = tf.tensor1d(values.map(() => 0), 'int32');
  const adv = attack.run(model, x, { labels, targeted: false }, 1, { seed: 1, costs: { gradients: 0, queries: 0 } }) as tf.Tensor4D;
  const [d, pred] = tf.tidy(() => [Array.from(attack.norm.distance(adv, x).dataSync()), Array.from(tf.argMax(model.logits(adv), 1).dataSync())]);
  tf.dispose([x, labels, adv]);
  return { distance: d!, fooled: pred!.map((p) => p !== 0) };
}

describe('FMN-L1 and FMN-L0 on a linear model', () => {
  let l1Model: Classifier & { dispose(): void };
  let l0Model: Classifier & { dispose(): void };
  beforeAll(async () => {
    await useTestBackend();
    l1Model = linearClassifier(W, [0, -1.85], SHAPE);
    l0Model = linearClassifier(W, [0, -3.8], SHAPE);
  });

  it('FMN-L1 finds |f|/max|w_i| within 3%', () => {
    const attack = fmn({ norm: 'l1' });
    expect(attack.name).toBe('fmn-l1');
    expect(attack.norm).toBe(l1);
    const { distance, fooled } = run(l1Model, attack, L1_ROWS);
    distance.forEach((d, i) => {
      expect(fooled[i]).toBe(true);
      expect(d).toBeGreaterThanOrEqual(L1_MIN[i]! * (1 - 1e-4));
      expect(d).toBeLessThanOrEqual(L1_MIN[i]! * 1.03);
    });
  });

  it('FMN-L0 finds the fewest pixels: 1, 2 and 3', () => {
    const attack = fmn({ norm: 'l0' });
    expect(attack.name).toBe('fmn-l0');
    expect(attack.norm).toBe(l0);
    const { distance, fooled } = run(l0Model, attack, L0_ROWS);
    expect(fooled).toEqual([true, true, true]);
    expect(distance).toEqual(L0_MIN);
  });

  it('FMN-L0 in the harness: accuracy at ε pixels = examples needing more than ε (1, 2, 3 → 2, 1, 0 left)', async () => {
    const data = tinyDataset(rows(L0_ROWS), [0, 0, 0], SHAPE, 2);
    const report = await evaluate(l0Model, data, [makeAttack('fmn', { norm: 'l0' })], [1, 2, 3], { probes: false });
    expect(report.results.map((r) => r.correct)).toEqual([2, 1, 0]);
    expect(report.examples.minimal![0]!.distances).toEqual(L0_MIN);
    expect(report.minimalPerturbation![0]).toMatchObject({ attack: 'fmn-l0', norm: 'l0', found: 3, of: 3, median: 2 });
  });

  it('FMN-L1 in the harness: the curve steps at the hand figures', async () => {
    const data = tinyDataset(rows(L1_ROWS), [0, 0, 0], SHAPE, 2);
    const report = await evaluate(l1Model, data, [makeAttack('fmn', { norm: 'l1' })], [0.1, 0.25, 0.3], { probes: false });
    // 0.2, 0.2833, 0.1167 (+ ≤ 3%): none within 0.1, two within 0.25, all within 0.3.
    expect(report.results.map((r) => r.correct)).toEqual([3, 1, 0]);
  });

  it.each(['l1', 'l0'] as const)('FMN-%s leaks no tensor', async (norm) => {
    expect(await leakedTensors(() => run(norm === 'l1' ? l1Model : l0Model, fmn({ norm, steps: 10 }), norm === 'l1' ? L1_ROWS : L0_ROWS))).toBe(0);
  });
});

describe('the l1 threat model', () => {
  it('projects onto the L1 ball so that the float32 image passes the float64 check', async () => {
    await useTestBackend();
    const x0 = tf.fill([2, 28, 28, 1], 0.3) as tf.Tensor4D;
    const x = tf.tidy(() => tf.add(x0, tf.randomUniform([2, 28, 28, 1], -0.2, 0.2, 'float32', 3)) as tf.Tensor4D);
    const projected = l1.project(x, x0, 5);
    const d = Array.from(l1.distance(projected, x0).dataSync());
    d.forEach((v) => {
      expect(v).toBeLessThanOrEqual(5);
      expect(v).toBeGreaterThan(5 * (1 - 1e-5));
    });
    // A point inside the ball stays where it is.
    const inside = l1.project(x, x0, 1e6);
    expect(Array.from(inside.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x0, x, projected, inside]);
  });

  it('draws random starts inside the ball', async () => {
    await useTestBackend();
    const x0 = tf.zeros([3, 4, 4, 1]) as tf.Tensor4D;
    const start = l1.randomStart(x0, 2, 7);
    for (const v of l1.distance(start, x0).dataSync()) {
      expect(v).toBeLessThanOrEqual(2);
      expect(v).toBeGreaterThan(0);
    }
    tf.dispose([x0, start]);
  });

  it('is refused by attacks without an l1 version, naming the ones that have it', () => {
    expect(() => makeAttack('apgd-ce', { norm: 'l1' })).toThrow(/apgd-ce has no l1 version: use --attack fmn, fab or fab-t for --norm l1/);
    expect(() => makeAttack('deepfool', { norm: 'l0' })).toThrow(/deepfool has no l0 version: use --attack sparse-rs \(score-based\) or fmn \(gradient\)/);
    expect(makeAttack('fmn', { norm: 'l0' }).name).toBe('fmn-l0');
  });
});
