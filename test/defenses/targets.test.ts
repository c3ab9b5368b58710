import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { baseLoss } from '../../defenses/defense.js';
import { distill, softTargets, temperature } from '../../defenses/distillation.js';
import { labelSmoothing, smoothTargets } from '../../defenses/label-smoothing.js';
import type { HookContext } from '../../src/train/loop.js';
import { useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

describe('label smoothing and distillation targets', () => {
  beforeAll(useTestBackend);

  it('label smoothing 0.1 over 10 classes: 0.91 on the true class, 0.01 elsewhere', async () => {
    const t = smoothTargets(tf.oneHot(tf.tensor1d([3], 'int32'), 10) as tf.Tensor2D, 0.1).arraySync()[0]!;
    t.forEach((v, k) => expect(v).toBeCloseTo(k === 3 ? 0.91 : 0.01, 6));
    // The defense builds one-hot targets from the labels with the classifier's class count.
    const classifier = linearClassifier(Array.from({ length: 10 }, () => [0]), Array(10).fill(0), [1, 1, 1]);
    const b = await labelSmoothing(0.1).batch!({ x: tf.zeros([1, 1, 1, 1]), y: tf.tensor1d([0], 'int32') }, { classifier } as unknown as HookContext);
    expect(b.targets!.arraySync()[0]![0]).toBeCloseTo(0.91, 6);
    expect(b.targets!.arraySync()[0]![9]).toBeCloseTo(0.01, 6);
  });

  it('soft targets at T are softmax(z/T): logits (0, ln 4·T) give (1/5, 4/5)', () => {
    const T = 20;
    const p = softTargets(tf.tensor2d([[0, Math.log(4) * T]]), T).arraySync()[0]!;
    expect(p[0]).toBeCloseTo(0.2, 6);
    expect(p[1]).toBeCloseTo(0.8, 6);
  });

  it('the student’s targets come from the teacher at T, and its loss sees its logits divided by T', async () => {
    const T = 10;
    // Teacher logits = (0, 10·ln 4·x) at x = 1 → soft targets (0.2, 0.8).
    const teacher = linearClassifier([[0], [10 * Math.log(4)]], [0, 0], [1, 1, 1]);
    const student = distill(teacher, T);
    const b = await student.batch!({ x: tf.ones([1, 1, 1, 1]), y: tf.tensor1d([1], 'int32') }, {} as HookContext);
    const targets = b.targets!;
    expect(targets.arraySync()[0]![1]).toBeCloseTo(0.8, 5);
    const z = tf.tensor2d([[10, 30]]);
    const loss = student.loss!(z, { y: b.y, targets }, baseLoss, {} as HookContext, b).dataSync()[0]!;
    // CE of (0.2, 0.8) against softmax(1, 3).
    const lse = Math.log(Math.exp(1) + Math.exp(3));
    expect(loss).toBeCloseTo(0.2 * (lse - 1) + 0.8 * (lse - 3), 5);
    const teacherLoss = temperature(T).loss!(z, { y: tf.tensor1d([1], 'int32') }, baseLoss, {} as HookContext, b).dataSync()[0]!;
    expect(teacherLoss).toBeCloseTo(lse - 3, 5);
  });

  it('refuses temperatures below 1 and smoothing outside (0, 1)', () => {
    expect(() => temperature(0.5)).toThrow(/temperature ≥ 1/);
    expect(() => labelSmoothing(1)).toThrow(/in \(0, 1\)/);
  });
});
