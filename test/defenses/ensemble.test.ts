import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensemble } from '../../defenses/ensemble.js';
import { buildTemplateNet } from '../../src/model/architectures.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

describe('ensemble', () => {
  beforeAll(useTestBackend);

  it('logits are the mean of the members’ logits, with the query path too', async () => {
    const a = linearClassifier([[1, 0], [0, 1]], [0, 0], [1, 2, 1]);
    const b = linearClassifier([[3, 0], [0, -1]], [1, 1], [1, 2, 1]);
    const e = ensemble([a, b]);
    const x = tf.tensor4d([0.5, 0.25], [1, 1, 2, 1]);
    // a: (0.5, 0.25); b: (2.5, 0.75) → mean (1.5, 0.5)
    expect(Array.from(e.logits(x).dataSync())).toEqual([1.5, 0.5]);
    const withQuery = ensemble([a, { ...b, query: async (t: tf.Tensor4D) => b.logits(t) }]);
    expect(Array.from((await withQuery.query!(x)).dataSync())).toEqual([1.5, 0.5]);
    expect(() => ensemble([a, linearClassifier([[1]], [0], [1, 1, 1])])).toThrow(/members must agree/);
  });

  it('members from one block template with different depths, widths and seeds', () => {
    const members = [
      { depth: 1, width: 4, seed: 0 },
      { depth: 2, width: 8, seed: 1 },
      { depth: 3, width: 4, seed: 2 },
    ].map((o) => buildTemplateNet([28, 28, 1], 10, o));
    expect(members.map((m) => m.name)).toEqual(['template_1x4', 'template_2x8', 'template_3x4']);
    expect(members[2]!.layers.filter((l) => l.getClassName() === 'Conv2D')).toHaveLength(3);
    const e = ensemble(members.map((m) => layersClassifier(m, { owned: true })));
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const mean = tf.tidy(() => tf.div(tf.addN(members.map((m) => m.predict(x) as tf.Tensor)), 3));
    const got = e.logits(x);
    expect(got.shape).toEqual([2, 10]);
    Array.from(got.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(mean.dataSync()[i]!, 5));
    // The mean is differentiable: gradient attacks see the whole ensemble.
    const g = tf.grad((t: tf.Tensor) => tf.sum(e.logits(t as tf.Tensor4D)))(x);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    e.dispose?.();
    expect(() => buildTemplateNet([28, 28, 1], 10, { depth: 5, width: 4 })).toThrow(/1 to 4 blocks/);
  });
});
