import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { composeDefenses } from '../../defenses/defense.js';
import { makeDefenses } from '../../defenses/registry.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { trainModel, type TrainingHooks } from '../../src/train/loop.js';
import { useTestBackend } from '../helpers/backend.js';

describe('FGSM adversarial training, end to end', () => {
  beforeAll(useTestBackend);

  it('gives the mlp higher FGSM accuracy at ε = 0.1 than standard training with the same seed', async () => {
    const train = balancedSubset(loadMnist('train'), 1000);
    const test = balancedSubset(loadMnist('test'), 500);
    const run = async (hooks?: TrainingHooks) => {
      const model = buildArchitecture('mlp', [28, 28, 1], 10, 0);
      await trainModel(model, train, { epochs: 2, batchSize: 32, seed: 0, ...(hooks ? { hooks } : {}) });
      const report = await evaluate(layersClassifier(model), test, [fgsm()], [0.1], { seed: 0, probes: false });
      model.dispose();
      return { clean: report.clean.accuracy, fgsm: report.results[0]!.accuracy };
    };
    const standard = await run();
    const adversarial = await run(composeDefenses(makeDefenses('fgsm-at', { eps: 0.1 })));
    // Measured (wasm): standard 86.6% clean, 17.6% under FGSM; FGSM-AT 84.0% clean, 48.2% under FGSM.
    expect(adversarial.fgsm).toBeGreaterThan(standard.fgsm);
  });
});
