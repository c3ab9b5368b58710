import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEvaluationData } from '../../src/data/index.js';
import { scoresOf } from '../../src/model/scores.js';
import { loadSpecModel } from '../../src/regression/run-spec.js';
import { materialize } from '../../src/run/requests.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

const MODEL = path.resolve(import.meta.dirname, '../../fixtures/models/mnist-cnn');
const TRANSFORM = 'jpeg=20';

/** The scores the harness judges a batch by (the model's query when it has one, else its logits). */
async function judged(model: Classifier, x: tf.Tensor4D): Promise<number[][]> {
  const scores = await scoresOf(model, x);
  try {
    return (await scores.array()) as number[][];
  } finally {
    scores.dispose();
  }
}

describe('--transform jpeg=Q: baseline/check and eval judge the same model', () => {
  beforeAll(useTestBackend);

  it('gives the same scores, hence the same predictions, on a few test digits', async () => {
    const backend = (process.env.ADVTEST_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm';
    // eval (and its worker threads) build the model from the run description…
    const evaluated = await materialize({ backend, model: { model: MODEL }, transform: TRANSFORM, data: 'mnist', limit: 8, attack: { attack: 'fgsm' }, seed: 0 });
    // …and baseline/check from the baseline's spec.
    const checked = await loadSpecModel(MODEL, { transform: TRANSFORM, seed: 0 });
    const { data } = await loadEvaluationData('mnist', { split: 'test', shape: [28, 28, 1], limit: 8 });
    const x = tf.tensor4d(data.images, [data.size, 28, 28, 1]);
    try {
      const a = await judged(evaluated.model, x);
      const b = await judged(checked, x);
      expect(b).toEqual(a);
      const argmax = (rows: number[][]) => rows.map((r) => r.indexOf(Math.max(...r)));
      expect(argmax(b)).toEqual(argmax(a));
      // Both judge through the real codec (sharp), not only its tensor-op simulation.
      expect(checked.describe?.()).toMatchObject({ jpegCodec: expect.stringContaining('sharp') });
    } finally {
      x.dispose();
      evaluated.model.dispose?.();
      checked.dispose?.();
    }
  });
});
