import { deepFool, fgsm } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';

/** DeepFool (minimal, L∞) beside FGSM on 20 digits of the fixture model, independent mode. */
export async function minimalReport(): Promise<Report> {
  await useTestBackend();
  const model = await loadModel(fixtureModelPath('mnist-cnn'));
  try {
    return await evaluate(model, balancedSubset(loadMnist('test'), 20), [deepFool({ norm: 'linf', steps: 20 }), fgsm()], [0.05, 0.1, 0.2], { seed: 4, probes: false });
  } finally {
    model.dispose?.();
  }
}

