import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeOptimizer } from '../../src/train/optimizers.js';
import { makeSchedule, setLearningRate } from '../../src/train/schedule.js';
import { useTestBackend } from '../helpers/backend.js';

describe('learning-rate schedules', () => {
  beforeAll(useTestBackend);
  const over = (name: string, total: number) => Array.from({ length: total }, (_, t) => makeSchedule(name)(1, t, total));

  it('evaluate each step at its middle: constant, step (×0.1 at 50% and 75%), cosine, one-cycle', () => {
    expect(over('constant', 4)).toEqual([1, 1, 1, 1]);
    over('step', 8).forEach((v, i) => expect(v).toBeCloseTo([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01][i]!, 10));
    const cos = over('cosine', 4);
    expect(cos[0]).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 8)), 10);
    expect(cos[3]).toBeCloseTo(0.5 * (1 + Math.cos((7 * Math.PI) / 8)), 10);
    // One-cycle over 10 steps: up to the peak at 40%, down to ~0 at the end, never 0.
    const one = over('one-cycle', 10);
    expect(one[0]).toBeCloseTo(0.05 / 0.4, 10);
    expect(one[3]).toBeCloseTo(0.35 / 0.4, 10);
    expect(one[4]).toBeCloseTo(0.55 / 0.6, 10);
    expect(one[9]).toBeCloseTo(0.05 / 0.6, 10);
    expect(Math.min(...one)).toBeGreaterThan(0);
    expect(() => makeSchedule('linear')).toThrow(/constant, step, cosine, one-cycle/);
  });

  it('setLearningRate changes the step SGD, momentum and Adam take', () => {
    for (const name of ['sgd', 'momentum', 'adam']) {
      const v = tf.variable(tf.scalar(0));
      const opt = makeOptimizer(name, 1);
      setLearningRate(opt, 0.25);
      opt.applyGradients({ [v.name]: tf.scalar(1) });
      // SGD and momentum (first step): −lr·g; Adam's first step is −lr·sign(g) (up to its ε).
      expect(v.dataSync()[0]).toBeCloseTo(-0.25, 4);
      opt.dispose();
      v.dispose();
    }
  });
});
