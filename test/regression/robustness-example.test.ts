/**
 * The example from the README: robustness assertions on the committed fixture model, as a
 * project would write them (there, `import 'advtest/vitest'` instead of the source path).
 * Re-create the baseline after a deliberate change of model or evaluation:
 *   advtest baseline --model fixtures/models/mnist-cnn --attack fgsm --eps 0.1,0.2 --limit 300 --out fixtures/baselines/mnist-cnn.json
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-info.js';
import '../../src/regression/vitest.js';
import { useTestBackend } from '../helpers/backend.js';

const root = packageRoot();
const MODEL = path.join(root, 'fixtures/models/mnist-cnn');

describe('mnist-cnn robustness', () => {
  beforeAll(useTestBackend);

  it('resists FGSM at ε = 0.05 on 200 test digits', async () => {
    await expect(MODEL).toResist('fgsm', { data: 'mnist', limit: 200, eps: 0.05, atLeast: 0.85 });
  });

  it('is no easier to fool than its committed baseline', async () => {
    await expect(MODEL).toMatchRobustnessBaseline(path.join(root, 'fixtures/baselines/mnist-cnn.json'));
  });
});
