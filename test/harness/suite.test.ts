import { beforeAll, describe, expect, it } from 'vitest';
import { bim } from '../../attacks/bim.js';
import { fgsm } from '../../attacks/fgsm.js';
import { pgd } from '../../attacks/pgd.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

describe('a sequential suite', () => {
  let model: Classifier;
  const data = balancedSubset(loadMnist('test'), 80);
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  // Per example the suite can differ from a member run alone: a member attacking a smaller batch
  // may round differently (XNNPACK picks kernels by batch size), which flips borderline examples.
  it('is at least as strong as each of its members at every ε', async () => {
    const members = () => [fgsm(), pgd({ steps: 5 }), bim({ steps: 5 })];
    const epsilons = [0.05, 0.1, 0.2];
    const suite = await evaluate(model, data, members(), epsilons, { mode: 'sequential', seed: 2, probes: false });
    const alone = await evaluate(model, data, members(), epsilons, { mode: 'independent', seed: 2, probes: false });
    for (const eps of epsilons) {
      const worst = suite.worstCase.find((w) => w.eps === eps)!;
      for (const r of alone.results.filter((r) => r.eps === eps)) expect(worst.correct).toBeLessThanOrEqual(r.correct);
    }
  });

  it('attacks only the examples still standing', async () => {
    const suite = await evaluate(model, data, [fgsm(), pgd({ steps: 5 })], [0.2], { mode: 'sequential', probes: false });
    const [first, second] = suite.results;
    expect(first!.attacked).toBe(suite.clean.correct);
    expect(second!.attacked).toBe(first!.correct);
    expect(second!.costs.gradients).toBe(first!.correct * 5);
    // Rows are cumulative: the second row is the worst case.
    expect(second!.correct).toBe(suite.worstCase[0]!.correct);
  });
});
