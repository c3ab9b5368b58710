import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { l2, linf } from '../../src/tensor/norms.js';
import { useTestBackend } from '../helpers/backend.js';

describe('norms', () => {
  beforeAll(useTestBackend);

  it('L2 projection on a hand-built example: δ = (3, 4) has norm 5; onto ε = 2.5 it halves to (1.5, 2)', () => {
    const x0 = tf.tensor4d([0.1, 0.2, 0.5, 0.5], [2, 1, 2, 1]);
    // Second example: δ = (0.3, 0.4), norm 0.5 < 2.5, stays as it is.
    const x = tf.tensor4d([3.1, 4.2, 0.8, 0.9], [2, 1, 2, 1]);
    const p = l2.project(x, x0, 2.5);
    const v = Array.from(p.dataSync());
    expect(v[0]).toBeCloseTo(1.6, 5);
    expect(v[1]).toBeCloseTo(2.2, 5);
    expect(v[2]).toBeCloseTo(0.8, 5);
    expect(v[3]).toBeCloseTo(0.9, 5);
    expect(Array.from(l2.distance(p, x0).dataSync())).toEqual([expect.closeTo(2.5, 5), expect.closeTo(0.5, 5)]);
    tf.dispose([x0, x, p]);
  });

  it('L∞ projection clips each coordinate of δ to [−ε, ε]', () => {
    const x0 = tf.tensor4d([0.5, 0.5, 0.5], [1, 1, 3, 1]);
    const x = tf.tensor4d([0.9, 0.45, 0.1], [1, 1, 3, 1]);
    const p = linf.project(x, x0, 0.1);
    expect(Array.from(p.dataSync())).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.45, 6), expect.closeTo(0.4, 6)]);
    tf.dispose([x0, x, p]);
  });

  it('random starts stay in the ball and depend only on each example’s own seed', () => {
    const x0 = tf.zeros([3, 4, 4, 1]) as tf.Tensor4D;
    for (const norm of [linf, l2]) {
      const a = norm.randomStart(x0, 0.3, [11, 12, 13]);
      const d = norm.distance(a, x0).dataSync();
      for (const v of d) expect(v).toBeLessThanOrEqual(0.3 + 1e-6);
      // Example seeded 12 alone gives the same noise as in the batch.
      const b = norm.randomStart(tf.zeros([1, 4, 4, 1]) as tf.Tensor4D, 0.3, [12]);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync().slice(16, 32)));
      tf.dispose([a, b]);
    }
    x0.dispose();
  });

  it('normalize gives sign for L∞ and unit L2 norm per example for L2', () => {
    const g = tf.tensor4d([3, -4, 0, 0.5], [2, 1, 2, 1]);
    expect(Array.from(linf.normalize(g).dataSync())).toEqual([1, -1, 0, 1]);
    expect(Array.from(l2.normalize(g).dataSync())).toEqual([expect.closeTo(0.6, 6), expect.closeTo(-0.8, 6), 0, expect.closeTo(1, 6)]);
    g.dispose();
  });
});

describe('exactSign', () => {
  beforeAll(useTestBackend);

  it('is ±1 for tiny non-zero values (the wasm Sign kernel returns 0 below ~1.5e-7)', async () => {
    const { exactSign } = await import('../../src/tensor/norms.js');
    const t = tf.tensor1d([5.6e-9, -3e-8, 1e-30, 0, -2, 0.5]);
    expect(Array.from(exactSign(t).dataSync())).toEqual([1, -1, 1, 0, -1, 1]);
    t.dispose();
  });
});
