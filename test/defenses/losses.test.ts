import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsmAdversarialTraining, mixedLoss } from '../../defenses/adversarial-training.js';
import { baseLoss } from '../../defenses/defense.js';
import { klDivergence, trades, tradesLoss } from '../../defenses/trades.js';
import type { HookContext } from '../../src/train/loop.js';
import { useTestBackend } from '../helpers/backend.js';

const ln = Math.log;

describe('adversarial training losses on hand-made logits', () => {
  beforeAll(useTestBackend);
  const y = () => tf.tensor1d([0], 'int32');
  // clean: softmax (½, ½); adversarial: softmax (¼, ¾).
  const clean = () => tf.tensor2d([[0, 0]]);
  const adv = () => tf.tensor2d([[0, ln(3)]]);

  it('KL(p ‖ q) per example', () => {
    expect(klDivergence(clean(), adv()).dataSync()[0]).toBeCloseTo(0.5 * ln(2) + 0.5 * ln(2 / 3), 6);
    expect(klDivergence(adv(), adv()).dataSync()[0]).toBeCloseTo(0, 6);
  });

  it('TRADES: CE(f(x), y) + β·KL(f(x) ‖ f(x′))', () => {
    const kl = 0.5 * ln(2) + 0.5 * ln(2 / 3);
    expect(tradesLoss(clean(), adv(), { y: y() }, 6, baseLoss).dataSync()[0]).toBeCloseTo(ln(2) + 6 * kl, 5);
    // Through the defense's loss hook on a [clean; adversarial] batch.
    const d = trades({ eps: 0.1, beta: 2 });
    const batch = { x: tf.zeros([2, 1, 1, 1]) as tf.Tensor4D, y: tf.tensor1d([0, 0], 'int32'), clean: 1 };
    const logits = tf.concat([clean(), adv()]) as tf.Tensor2D;
    expect(d.loss!(logits, { y: batch.y }, baseLoss, {} as HookContext, batch).dataSync()[0]).toBeCloseTo(ln(2) + 2 * kl, 5);
  });

  it('FGSM-AT: α·L(x) + (1 − α)·L(x_adv), α = ½', () => {
    const c = tf.tensor2d([[ln(3), 0]]); // p(y) = ¾ → L = ln 4/3
    const expected = 0.5 * ln(4 / 3) + 0.5 * ln(4);
    expect(mixedLoss(c, adv(), { y: y() }, 0.5, baseLoss).dataSync()[0]).toBeCloseTo(expected, 6);
    expect(mixedLoss(c, adv(), { y: y() }, 0.8, baseLoss).dataSync()[0]).toBeCloseTo(0.8 * ln(4 / 3) + 0.2 * ln(4), 6);
    const d = fgsmAdversarialTraining({ eps: 0.1 });
    const batch = { x: tf.zeros([2, 1, 1, 1]) as tf.Tensor4D, y: tf.tensor1d([0, 0], 'int32'), clean: 1 };
    expect(d.loss!(tf.concat([c, adv()]) as tf.Tensor2D, { y: batch.y }, baseLoss, {} as HookContext, batch).dataSync()[0]).toBeCloseTo(expected, 6);
  });
});
