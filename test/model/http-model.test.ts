import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { httpModel } from '../../src/model/http-model.js';
import { scoreClassifier } from '../../src/model/score-model.js';
import { predictClasses } from '../../src/model/scores.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';
import { startScoreServer, type ScoreServer } from '../helpers/score-server.js';

describe('score-only and HTTP models', () => {
  let local: Classifier;
  let server: ScoreServer | undefined;
  const data = balancedSubset(loadMnist('test'), 40);
  const x = () => tf.tensor4d(data.images, [40, 28, 28, 1]);
  beforeAll(async () => {
    await useTestBackend();
    local = await loadModel(fixtureModelPath('mnist-cnn'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('batches requests, limits concurrency and predicts what the model behind it predicts', async () => {
    server = await startScoreServer(local, { delayMs: 20 });
    const remote = httpModel({ url: server.url, inputShape: [28, 28, 1], numClasses: 10, batchSize: 8, concurrency: 2 });
    const input = x();
    expect(Array.from(await predictClasses(remote, input))).toEqual(Array.from(await predictClasses(local, input)));
    expect(server.batches).toEqual([8, 8, 8, 8, 8]);
    expect(server.maxInFlight).toBe(2);
    input.dispose();
  });

  it('retries 5xx answers and then succeeds', async () => {
    server = await startScoreServer(local, { failFirst: 2 });
    const remote = httpModel({ url: server.url, inputShape: [28, 28, 1], numClasses: 10, batchSize: 40, retries: 3, retryDelayMs: 1 });
    const input = x();
    expect(await predictClasses(remote, input)).toHaveLength(40);
    input.dispose();
  });

  it('gives up after the retries with a clear error, and reports 4xx at once', async () => {
    server = await startScoreServer(local, { failFirst: 10 });
    const flaky = httpModel({ url: server.url, inputShape: [28, 28, 1], numClasses: 10, retries: 2, retryDelayMs: 1 });
    const input = x();
    await expect(predictClasses(flaky, input)).rejects.toThrow(/failed 3 times \(last: HTTP 503/);
    await server.close();
    server = await startScoreServer(local);
    const wrongKey = httpModel({ url: server.url, inputShape: [28, 28, 1], numClasses: 10, inputKey: 'inputs' });
    await expect(predictClasses(wrongKey, input)).rejects.toThrow(/HTTP 400.*inputKey "inputs"/);
    input.dispose();
  });

  it('refuses gradient attacks on a score-only model, naming the fix', async () => {
    const scores = scoreClassifier(async (images, shape) => tf.tidy(() => local.logits(tf.tensor4d(images, shape)).dataSync() as Float32Array), { inputShape: [28, 28, 1], numClasses: 10 });
    await expect(evaluate(scores, data, [fgsm()], [0.1])).rejects.toThrow(/score-only model\): use a score-based attack \(--attack square\)/);
  });

  it('rejects answers of the wrong size', async () => {
    const bad = scoreClassifier(async () => [[1, 2, 3]], { inputShape: [28, 28, 1], numClasses: 10, name: 'bad scorer' });
    const input = x();
    await expect(predictClasses(bad, input)).rejects.toThrow(/bad scorer answered 1 rows \/ 3 scores for 40 images of 10 classes/);
    input.dispose();
  });
});
