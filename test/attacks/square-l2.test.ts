import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { square } from '../../attacks/square.js';
import { pseudoGaussianRectangle, pseudoGaussianSquare, squareL2Candidate, squareL2Side, squareL2Start, type Geometry } from '../../attacks/square-l2.js';
import { makeRng } from '../../src/tensor/random.js';
import type { AttackContext, Criterion } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

const ctx = (seed = 1): AttackContext => ({ seed, costs: { gradients: 0, queries: 0 } });
const norm2 = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('the L2 Square Attack proposals', () => {
  it('pseudo-Gaussian 3×3: centre 1 + 1/4, ring 1/4, over √(1.25² + 8/16) = √2.0625', () => {
    const r = Array.from(pseudoGaussianRectangle(3, 3));
    const z = Math.sqrt(2.0625);
    expect(r[4]).toBeCloseTo(1.25 / z, 10);
    for (const p of [0, 1, 2, 3, 5, 6, 7, 8]) expect(r[p]).toBeCloseTo(0.25 / z, 10);
  });

  it('the square bump has unit norm, + on the top half and − on the bottom (transposed: left/right)', () => {
    const s = 5;
    const b = pseudoGaussianSquare(s, false);
    expect(norm2(b)).toBeCloseTo(1, 10);
    for (let c = 0; c < s; c++) {
      expect(b[0 * s + c]).toBeGreaterThan(0);
      expect(b[1 * s + c]).toBeGreaterThan(0);
      for (const r of [2, 3, 4]) expect(b[r * s + c]).toBeLessThan(0);
    }
    const t = pseudoGaussianSquare(s, true);
    for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) expect(t[c * s + r]).toBe(b[r * s + c]);
  });

  it('sizes windows as round(√(p·h·w)), at least 3, odd', () => {
    expect(squareL2Side(0.8, 28, 28)).toBe(25);
    expect(squareL2Side(0.4, 28, 28)).toBe(19); // 17.7 → 18 → odd 19
    expect(squareL2Side(0.001, 28, 28)).toBe(3);
  });

  it('start and every proposal have ‖δ‖₂ = ε when the box does not bind; a proposal changes only its two windows', () => {
    const h = 12;
    const w = 12;
    const g: Geometry = { h, w, c: 1, eps: 0.5, clip: (v) => Math.min(Math.max(v, 0), 1) };
    const x0 = new Float32Array(h * w).fill(0.5);
    const rng = makeRng(3);
    const start = squareL2Start(x0, g, rng);
    expect(norm2(start.map((v, p) => v - x0[p]!))).toBeCloseTo(0.5, 5);
    let best = start;
    for (let k = 0; k < 5; k++) {
      const next = squareL2Candidate(x0, best, 3, g, rng);
      expect(norm2(next.map((v, p) => v - x0[p]!))).toBeCloseTo(0.5, 5);
      best = next;
    }
  });
});

describe('Square-L2 on a linear model', () => {
  beforeAll(useTestBackend);
  // Binary, z1 − z0 = w·x + b on 8×8, w_p = sin(p): the nearest L2 boundary is |f|/‖w‖₂ away.
  const pixels = 64;
  const w = Array.from({ length: pixels }, (_, p) => Math.round(Math.sin(p) * 100) / 100);
  const wNorm = norm2(w);
  const x0 = new Array(pixels).fill(0.5);
  const f0 = w.reduce((s, v) => s + v * 0.5, 0);
  // f = w·x0 + b = −0.2·‖w‖₂: the boundary is 0.2 away in L2.
  const bias = -0.2 * wNorm - f0;
  const model = () => linearClassifier([new Array(pixels).fill(0), w], [0, bias], [8, 8, 1]);

  it('cannot fool below the L2 distance 0.2 (Cauchy–Schwarz) and fools at 3× it; never a gradient', async () => {
    const m = model();
    const x = tf.tensor4d(x0, [1, 8, 8, 1]);
    const c: Criterion = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const attack = square({ norm: 'l2', queries: 500 });
    expect(attack.name).toBe('square-l2');
    expect(attack.norm.name).toBe('l2');
    const predict = (t: tf.Tensor4D) => tf.tidy(() => tf.argMax(m.logits(t), 1).dataSync()[0]);
    const below = ctx();
    const advBelow = await attack.run(m, x, c, 0.19, below);
    expect(predict(advBelow)).toBe(0);
    expect(below.costs).toEqual({ gradients: 0, queries: 500 });
    const above = ctx();
    const advAbove = await attack.run(m, x, c, 0.6, above);
    expect(predict(advAbove)).toBe(1);
    expect(above.costs.queries).toBeLessThan(500);
    const size = tf.tidy(() => norm2(tf.sub(advAbove, x).dataSync()));
    expect(size).toBeLessThanOrEqual(0.6 + 1e-5);
    tf.dispose([x, c.labels, advBelow, advAbove]);
    m.dispose();
  });

  it('is deterministic for a seed and leaks no tensor', async () => {
    const m = model();
    const x = tf.tensor4d(x0, [1, 8, 8, 1]);
    const c: Criterion = { labels: tf.tensor1d([0], 'int32'), targeted: false };
    const once = async (seed: number) => {
      const adv = await square({ norm: 'l2', queries: 30 }).run(m, x, c, 0.1, ctx(seed));
      const v = Array.from(adv.dataSync());
      adv.dispose();
      return v;
    };
    expect(await once(4)).toEqual(await once(4));
    expect(await leakedTensors(() => once(5))).toBe(0);
    tf.dispose([x, c.labels]);
    m.dispose();
  });
});

describe('square --norm l2 and the autoattack L2 recipe', () => {
  it('square takes --norm l2; l0 is refused with the fix', () => {
    expect(makeAttack('square', { norm: 'l2' }).name).toBe('square-l2');
    expect(() => makeAttack('square', { norm: 'l0' })).toThrow(/has no l0 version|sparse-rs/);
  });
});
