import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { baseLoss, composeDefenses } from '../../defenses/defense.js';
import { mart, martLoss } from '../../defenses/mart.js';
import { makeDefenses } from '../../defenses/registry.js';
import type { HookContext } from '../../src/train/loop.js';
import { useTestBackend } from '../helpers/backend.js';

const ln = Math.log;

describe('MART loss on a 2-example batch with known logits', () => {
  beforeAll(useTestBackend);
  // Example 0 (y = 0): clean p = (⅓, ⅓, ⅓); adversarial p′ = (¼, ½, ¼) — misclassified.
  // Example 1 (y = 1): clean p = (¼, ½, ¼); adversarial p′ = (⅙, ½, ⅓) — the true class is the max.
  const clean = () => tf.tensor2d([[0, 0, 0], [0, ln(2), 0]]);
  const adv = () => tf.tensor2d([[0, ln(2), 0], [0, ln(3), ln(2)]]);
  const y = () => tf.tensor1d([0, 1], 'int32');
  // Worked by hand: CE(p′, y) = ln 4 and ln 2; the strongest wrong class has p′ = ½ and ⅓;
  // KL(p ‖ p′) = ⅓·ln(32/27) and ¼·ln(3/2) + ¼·ln(3/4); 1 − p_y(x) = ⅔ and ½.
  const ce = (ln(4) + ln(2)) / 2;
  const margin = (-ln(1.0001 - 1 / 2 + 1e-12) - ln(1.0001 - 1 / 3 + 1e-12)) / 2;
  const kl0 = ln(32 / 27) / 3;
  const kl1 = ln(3 / 2) / 4 + ln(3 / 4) / 4;
  const robust = (kl0 * (1.0000001 - 1 / 3) + kl1 * (1.0000001 - 1 / 2)) / 2;

  it('BCE(f(x′), y) + λ·mean KL(f(x) ‖ f(x′))·(1 − p_y(x))', () => {
    expect(martLoss(clean(), adv(), { y: y() }, 6, baseLoss).dataSync()[0]).toBeCloseTo(ce + margin + 6 * robust, 5);
    expect(martLoss(clean(), adv(), { y: y() }, 1, baseLoss).dataSync()[0]).toBeCloseTo(ce + margin + robust, 5);
  });

  it('through the defense loss hook on a [clean; adversarial] batch (λ = 5)', () => {
    const d = mart({ eps: 0.3, lambda: 5 });
    const batch = { x: tf.zeros([4, 1, 1, 1]) as tf.Tensor4D, y: tf.tensor1d([0, 1, 0, 1], 'int32'), clean: 2 };
    const logits = tf.concat([clean(), adv()]) as tf.Tensor2D;
    expect(d.loss!(logits, { y: batch.y }, baseLoss, {} as HookContext, batch).dataSync()[0]).toBeCloseTo(ce + margin + 5 * robust, 5);
  });

  it('the KL term vanishes when x′ = x, and the weight shrinks it on confidently correct examples', () => {
    const same = martLoss(clean(), clean(), { y: y() }, 6, baseLoss).dataSync()[0]!;
    const ceClean = (ln(3) + ln(2)) / 2;
    const marginClean = (-ln(1.0001 - 1 / 3 + 1e-12) - ln(1.0001 - 1 / 4 + 1e-12)) / 2;
    expect(same).toBeCloseTo(ceClean + marginClean, 5);
  });

  it('registry: mart[=λ], defaults λ = 6, PGD-10 at step 2.5ε/10; a bad λ or a --train-attack is refused', () => {
    const [d] = makeDefenses('mart', { eps: 0.3 });
    expect(d!.name).toBe('mart=6');
    expect(d!.describe!()).toMatchObject({ lambda: 6, eps: 0.3, steps: 10, stepSize: 0.075 });
    expect(() => makeDefenses('mart=0', { eps: 0.3 })).toThrow(/mart=0: λ must be a positive number/);
    expect(() => makeDefenses('mart', { eps: 0.3, attack: makeAttack('bim', { steps: 2 }) })).toThrow(/drop --train-attack/);
    expect(() => composeDefenses(makeDefenses('mart,trades', { eps: 0.3 }))).toThrow(/choose one kind of adversarial training/);
  });
});
