import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bim } from '../../attacks/bim.js';
import { fgsm } from '../../attacks/fgsm.js';
import { gradientDescentAttack } from '../../attacks/gradient-descent.js';
import { miFgsm } from '../../attacks/mi-fgsm.js';
import { pgd } from '../../attacks/pgd.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { linf } from '../../src/tensor/norms.js';
import type { AttackContext, Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

const ctx = (seed = 1): AttackContext => ({ seed, costs: { gradients: 0, queries: 0 } });

describe('the projected-gradient loop', () => {
  let model: Classifier;
  let x: tf.Tensor4D;
  let labels: tf.Tensor1D;
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
    const data = balancedSubset(loadMnist('test'), 20);
    x = tf.tensor4d(data.images, [20, 28, 28, 1]);
    labels = tf.tensor1d(data.labels, 'int32');
  });

  it('PGD with one step, no random start and step ε is FGSM', () => {
    const one = gradientDescentAttack('pgd-1', linf, { steps: 1, relStepsize: 1, randomStart: false, loss: 'ce', restarts: 1 });
    const a = one.run(model, x, { labels, targeted: false }, 0.2, ctx());
    const b = fgsm().run(model, x, { labels, targeted: false }, 0.2, ctx());
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
  });

  it("MI-FGSM's first step equals BIM's (with zero velocity, sign(∇/‖∇‖₁) = sign(∇))", () => {
    const a = miFgsm({ steps: 1, relStepsize: 0.1 }).run(model, x, { labels, targeted: false }, 0.3, ctx());
    const b = bim({ steps: 1, relStepsize: 0.1 }).run(model, x, { labels, targeted: false }, 0.3, ctx());
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
  });

  it("MI-FGSM's momentum follows Dong's L1 normalisation (second step differs from BIM's)", () => {
    const a = miFgsm({ steps: 2, relStepsize: 0.1 }).run(model, x, { labels, targeted: false }, 0.3, ctx());
    const b = bim({ steps: 2, relStepsize: 0.1 }).run(model, x, { labels, targeted: false }, 0.3, ctx());
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
  });

  it('restarts never make an example less adversarial, and count their gradients', async () => {
    const c1 = ctx(3);
    const c3 = ctx(3);
    const eps = 0.1;
    const one = pgd({ steps: 5, restarts: 1 }).run(model, x, { labels, targeted: false }, eps, c1);
    const three = pgd({ steps: 5, restarts: 3 }).run(model, x, { labels, targeted: false }, eps, c3);
    const fooled = (t: tf.Tensor4D) => tf.tidy(() => Array.from(tf.notEqual(tf.argMax(model.logits(t), 1), labels).dataSync()));
    const f1 = fooled(one);
    const f3 = fooled(three);
    f1.forEach((f, i) => {
      if (f) expect(f3[i]).toBe(1);
    });
    // The first run is the same in both; later runs only attack the examples still standing.
    const standing = f1.filter((f) => !f).length;
    expect(c3.costs.gradients).toBeLessThanOrEqual(20 * 5 + 2 * standing * 5);
    expect(c3.costs.gradients).toBeGreaterThanOrEqual(20 * 5);
    tf.dispose([one, three]);
  });

  it('a targeted PGD reaches its target on most examples at ε = 0.3', () => {
    const targets = tf.tidy(() => tf.mod(tf.add(labels, 1), 10) as tf.Tensor1D);
    const adv = pgd({ steps: 20 }).run(model, x, { labels: targets, targeted: true }, 0.3, ctx());
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(adv), 1), targets), 'int32')).dataSync()[0]!);
    expect(hits).toBeGreaterThanOrEqual(18);
    tf.dispose([adv, targets]);
  });
});
