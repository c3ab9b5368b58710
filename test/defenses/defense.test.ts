import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { augment } from '../../defenses/augment.js';
import { clipGradients } from '../../defenses/clipping.js';
import { composeDefenses, type Defense } from '../../defenses/defense.js';
import { fgsmAdversarialTraining } from '../../defenses/adversarial-training.js';
import { labelSmoothing } from '../../defenses/label-smoothing.js';
import { trades } from '../../defenses/trades.js';
import type { HookContext } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

/** A batch defense that records when it ran and adds `delta` to the images. */
function adder(name: string, stage: Defense['stage'], delta: number, log: string[]): Defense {
  return { name, stage, batch: (b) => (log.push(name), { ...b, x: tf.add(b.x, delta) }) };
}

describe('composing defenses', () => {
  beforeAll(useTestBackend);
  const ctx = (classifier = linearClassifier([[1], [-1]], [0, 0], [1, 1, 1])) => ({ classifier, seed: 1, step: 0, epoch: 0, learningRate: 1e-3 }) as unknown as HookContext;

  it('gradient hooks apply in the order given: clip-value then clip-global ≠ clip-global then clip-value', () => {
    const g = () => ({ w: tf.tensor1d([3, 4]) });
    const a = composeDefenses([clipGradients('clip-value', 3.5), clipGradients('clip-global', 1)]);
    const b = composeDefenses([clipGradients('clip-global', 1), clipGradients('clip-value', 0.5)]);
    // (3, 3.5) → /‖(3, 3.5)‖ = 4.61
    const n = Math.hypot(3, 3.5);
    Array.from(a.gradients!(g(), ctx()).w!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([3 / n, 3.5 / n][i]!, 5));
    // (0.6, 0.8) → (0.5, 0.5)
    Array.from(b.gradients!(g(), ctx()).w!.dataSync()).forEach((v) => expect(v).toBeCloseTo(0.5, 5));
  });

  it('batch hooks run by stage (augment, targets, adversarial), keeping the given order within a stage', async () => {
    const log: string[] = [];
    const hooks = composeDefenses([adder('adv', 'adversarial', 100, log), adder('aug1', 'augment', 1, log), adder('aug2', 'augment', 10, log), adder('tgt', 'targets', 0, log)]);
    const x = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
    const out = await hooks.batch!(x, tf.tensor1d([0], 'int32'), ctx());
    expect(log).toEqual(['aug1', 'aug2', 'tgt', 'adv']);
    expect(out.x.dataSync()[0]).toBe(111);
  });

  it('frees intermediate batches, leaving only the final one (which the loop disposes)', async () => {
    const hooks = composeDefenses([augment([{ name: 'noise', value: 0.1 }, { name: 'crop', value: 1 }]), labelSmoothing(0.1), fgsmAdversarialTraining({ eps: 0.1 })]);
    const x = tf.randomUniform([4, 1, 1, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 0, 1], 'int32');
    const c = ctx();
    const leaked = await leakedTensors(async () => {
      const out = await hooks.batch!(x, y, c);
      expect(out.x.shape[0]).toBe(8);
      expect(out.clean).toBe(4);
      // Smoothed targets are repeated for the adversarial partners.
      expect(out.targets!.arraySync()[5]).toEqual(out.targets!.arraySync()[1]);
      tf.dispose([out.x, out.y, out.targets!]);
    });
    expect(leaked).toBe(0);
  });

  it('loss hooks nest: the adversarial split is outermost, label smoothing applies to both halves', () => {
    const hooks = composeDefenses([labelSmoothing(0.2), fgsmAdversarialTraining({ eps: 0.1, alpha: 0.5 })]);
    const y = tf.tensor1d([0, 0], 'int32');
    const targets = tf.tensor2d([[0.9, 0.1], [0.9, 0.1]]);
    const logits = tf.tensor2d([[Math.log(3), 0], [0, Math.log(3)]]);
    const loss = hooks.loss!(logits, y, ctx(), { x: tf.zeros([2, 1, 1, 1]), y, targets, clean: 1 }).dataSync()[0]!;
    const ce = (p0: number) => -(0.9 * Math.log(p0) + 0.1 * Math.log(1 - p0));
    expect(loss).toBeCloseTo(0.5 * ce(0.75) + 0.5 * ce(0.25), 5);
  });

  it('refuses two kinds of adversarial training together', () => {
    expect(() => composeDefenses([fgsmAdversarialTraining({ eps: 0.1 }), trades({ eps: 0.1 })])).toThrow(/choose one kind of adversarial training/);
  });
});
