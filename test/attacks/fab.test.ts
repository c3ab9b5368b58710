import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fab, fabMinimal } from '../../attacks/fab.js';
import { projectL1, projectL2, projectLinf } from '../../attacks/fab-projections.js';
import type { AttackContext } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';
import { runAttack } from '../../attacks/run-attack.js';
import { makeAttack, parseAttackSpec } from '../../attacks/index.js';

const ctx = (seed = 1): AttackContext => ({ seed, costs: { gradients: 0, queries: 0 } });

describe('FAB projections onto w·z = b within [0, 1]', () => {
  // t = (0.5, 0.5, 0.5), w = (1, 2, −2), b = 0.5 + 0.3: w·t = 0.5, so Δ = 0.3.
  const t = [0.5, 0.5, 0.5];
  const w = [1, 2, -2];
  const b = 0.8;
  const dot = (d: ArrayLike<number>) => w.reduce((s, wi, i) => s + wi * (t[i]! + d[i]!), 0);

  it('L∞: every coordinate moves by Δ/‖w‖₁ = 0.06 in the sign of w', () => {
    const d = projectLinf(t, w, b, 0, 1);
    expect(Array.from(d)).toEqual([expect.closeTo(0.06, 7), expect.closeTo(0.06, 7), expect.closeTo(-0.06, 7)]);
    expect(dot(d)).toBeCloseTo(b, 6);
  });

  it('L2: d = Δ·w/‖w‖² = 0.3/9·w', () => {
    const d = projectL2(t, w, b, 0, 1);
    expect(Array.from(d)).toEqual(w.map((wi) => expect.closeTo((0.3 / 9) * wi, 7)));
  });

  it('L1: only a largest |w_i| coordinate moves, by Δ/2 = 0.15', () => {
    const d = projectL1(t, w, b, 0, 1);
    expect(dot(d)).toBeCloseTo(b, 6);
    expect(Array.from(d).reduce((s, v) => s + Math.abs(v), 0)).toBeCloseTo(0.15, 6);
    expect(d[0]).toBe(0);
  });

  it('respects the box: a coordinate at its bound stays, the others make up for it', () => {
    // t₁ = 1 cannot rise: L∞ needs λ with 1·λ + 2·λ·… → only coordinates 0 and 2 move: 3λ = 0.3, λ = 0.1.
    const d = projectLinf([0.5, 1, 0.5], w, w[0]! * 0.5 + 2 * 1 - 2 * 0.5 + 0.3, 0, 1);
    expect(d[1]).toBe(0);
    expect(d[0]).toBeCloseTo(0.1, 6);
    expect(d[2]).toBeCloseTo(-0.1, 6);
  });

  it('out of reach: goes as far as the box allows', () => {
    const d = projectL2([0.5], [1], 10, 0, 1);
    expect(d[0]).toBeCloseTo(0.5, 7);
  });
});

describe('FAB on a linear binary classifier', () => {
  beforeAll(useTestBackend);
  // z₁ − z₀ = w·x + b with w = (1, −2, 0.5, 3) and b = −0.4; at x = 0.5: f = 0.85 − 0.4 + … (below).
  const W = [
    [0, 0, 0, 0],
    [1, -2, 0.5, 3],
  ];
  const bias = [0, -1.7];
  // x0 = 0.5 everywhere: f = 0.5·(1 − 2 + 0.5 + 3) − 1.7 = 1.25 − 1.7 = −0.45 → class 0.
  const x0 = [0.5, 0.5, 0.5, 0.5];
  const f = -0.45;
  const l1w = 1 + 2 + 0.5 + 3;
  const l2w = Math.sqrt(1 + 4 + 0.25 + 9);

  it.each([
    ['linf', Math.abs(f) / l1w],
    ['l2', Math.abs(f) / l2w],
  ] as const)('%s: finds the distance to the hyperplane |w·x + b|/‖w‖_q within 1%%', async (norm, distance) => {
    const model = linearClassifier(W, bias, [2, 2, 1]);
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const labels = tf.tensor1d([0], 'int32');
    const found = fabMinimal(model, x, labels, { norm }, ctx());
    // The box does not bind here (distance < 0.5 per pixel), so the hand figure is the minimum.
    expect(found.distance[0]).toBeGreaterThanOrEqual(distance * (1 - 1e-5));
    expect(found.distance[0]).toBeLessThanOrEqual(distance * 1.01);
    const predicted = tf.tidy(() => tf.argMax(model.logits(found.adv), 1).dataSync()[0]);
    expect(predicted).toBe(1);
    tf.dispose([x, labels, found.adv]);
    model.dispose();
  });

  it('l1: moves the one coordinate of largest |w_i| (w₃ = 3) by |f|/3 = 0.15, within 1%', () => {
    const model = linearClassifier(W, bias, [2, 2, 1]);
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const labels = tf.tensor1d([0], 'int32');
    const found = fabMinimal(model, x, labels, { norm: 'l1' }, ctx());
    expect(found.distance[0]).toBeGreaterThanOrEqual(0.15 * (1 - 1e-5));
    expect(found.distance[0]).toBeLessThanOrEqual(0.15 * 1.01);
    const delta = Array.from(found.adv.dataSync(), (v, i) => v - x0[i]!);
    // Essentially all of the change is on coordinate 3.
    expect(delta[3]).toBeGreaterThan(0.15 * 0.99);
    tf.dispose([x, labels, found.adv]);
    model.dispose();
  });

  it('l1 where the box binds: x₃ = 0.9 may rise by 0.1 only (+0.3), x₁ makes up the rest: 0.1 + 0.2/2 = 0.2', async () => {
    // f = 0.5 − 1 + 0.25 + 2.7 − 2.95 = −0.5; x₁ alone would need 0.25, x₃ alone cannot.
    const model = linearClassifier(W, [0, -2.95], [2, 2, 1]);
    const start = [0.5, 0.5, 0.5, 0.9];
    const x = tf.tensor4d(start, [1, 2, 2, 1]);
    const criterion = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const found = fabMinimal(model, x, criterion.labels, { norm: 'l1' }, ctx());
    expect(found.distance[0]).toBeGreaterThanOrEqual(0.2 * (1 - 1e-5));
    expect(found.distance[0]).toBeLessThanOrEqual(0.2 * 1.01);
    // Through the harness's verification (the l1 threat model): fooled within 0.21, not within 0.19.
    const attack = fab({ norm: 'l1' });
    expect(attack.name).toBe('fab-l1');
    expect(attack.norm.name).toBe('l1');
    const above = await runAttack(model, attack, x, criterion, 0.21, 1);
    const below = await runAttack(model, attack, x, criterion, 0.19, 1);
    const [pa, pb] = tf.tidy(() => [tf.argMax(model.logits(above.adv), 1).dataSync()[0], tf.argMax(model.logits(below.adv), 1).dataSync()[0]]);
    expect(pa).toBe(1);
    expect(pb).toBe(0);
    tf.dispose([x, criterion.labels, found.adv, above.adv, below.adv]);
    model.dispose();
  });

  it('as a fixed-budget attack: fools at ε just above the distance, returns the original just below', async () => {
    const model = linearClassifier(W, bias, [2, 2, 1]);
    const distance = Math.abs(f) / l1w;
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const criterion = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const attack = fab({ norm: 'linf' });
    const above = attack.run(model, x, criterion, distance * 1.02, ctx());
    const below = attack.run(model, x, criterion, distance * 0.98, ctx());
    const [pa, pb] = tf.tidy(() => [tf.argMax(model.logits(above), 1).dataSync()[0], tf.argMax(model.logits(below), 1).dataSync()[0]]);
    expect(pa).toBe(1);
    expect(pb).toBe(0);
    expect(Array.from(below.dataSync())).toEqual(x0);
    tf.dispose([x, criterion.labels, above, below]);
    model.dispose();
  });

  it('FAB-T on four classes reaches the one class whose boundary is within ε', async () => {
    // Class 0 at 1; class 1 = 0.9 + 2(x₀ − 0.5): its boundary is 0.05 away in L∞ (through x₀ alone).
    // Classes 2 and 3 are constant, below class 1: FAB-T against them cannot succeed.
    const model = linearClassifier(
      [
        [0, 0, 0, 0],
        [2, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
      [1, -0.1, 0.5, 0],
      [2, 2, 1],
    );
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const criterion = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const attack = fab({ norm: 'linf', targets: 3 });
    const at = (eps: number) => tf.tidy(() => tf.argMax(model.logits(attack.run(model, x, criterion, eps, ctx())), 1).dataSync()[0]);
    expect(at(0.06)).toBe(1);
    expect(at(0.04)).toBe(0);
    tf.dispose([x, criterion.labels]);
    model.dispose();
  });

  it('leaks no tensor', async () => {
    const model = linearClassifier(W, bias, [2, 2, 1]);
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const criterion = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    expect(await leakedTensors(() => fab({ norm: 'l2', restarts: 2, steps: 10 }).run(model, x, criterion, 0.5, ctx()).dispose())).toBe(0);
    expect(await leakedTensors(() => fab({ targets: 1, steps: 10 }).run(model, x, criterion, 0.5, ctx()).dispose())).toBe(0);
    expect(await leakedTensors(async () => (await runAttack(model, fab({ norm: 'l1', targets: 1, steps: 10 }), x, criterion, 0.5, 1)).adv.dispose())).toBe(0);
    tf.dispose([x, criterion.labels]);
    model.dispose();
  });

  it('refuses a targeted criterion and more targets than other classes', () => {
    const model = linearClassifier(W, bias, [2, 2, 1]);
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const labels = tf.tensor1d([1], 'int32');
    expect(() => fab().run(model, x, { labels, targeted: true }, 0.1, ctx())).toThrow(/drop --targeted/);
    expect(() => fab({ targets: 9 }).run(model, x, { labels, targeted: false }, 0.1, ctx())).toThrow(/--targets 9 .* use --targets 1 or fewer/);
    tf.dispose([x, labels]);
    model.dispose();
  });
});

describe('FAB-L1 options', () => {
  it('fab and fab-t take --norm l1; attacks without an l1 version refuse it, naming the fix', () => {
    expect(makeAttack('fab', { norm: 'l1' }).name).toBe('fab-l1');
    expect(makeAttack('fab-t', { norm: 'l1', targets: 2 }).name).toBe('fab-t-l1');
    expect(() => makeAttack('pgd', { norm: 'l1' })).toThrow(/pgd has no l1 version: use --attack fmn, fab or fab-t for --norm l1/);
    expect(() => parseAttackSpec('autoattack', { norm: 'l1' })).toThrow(/autoattack is the L∞ or L2 recipe: use --norm linf\|l2 \(for --norm l1, run fmn or fab\)/);
  });
});
