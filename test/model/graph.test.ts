import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';

describe('GraphModel classifiers (tensorflowjs_converter format)', () => {
  beforeAll(useTestBackend);
  const data = balancedSubset(loadMnist('test'), 100);

  it('loads a graph model, reads logits before its Softmax node, and attacks it with gradients', async () => {
    const model = await loadModel(fixtureModelPath('mnist-linear-graph'));
    expect(model.inputShape).toEqual([28, 28, 1]);
    expect(model.numClasses).toBe(10);
    expect(model.describe?.()).toMatchObject({ format: 'graph-model', logits: 'pre-softmax (node logits)' });
    expect(model.gradientUnavailable).toBeUndefined();
    const report = await evaluate(model, data, [fgsm()], [0.1, 0.2]);
    expect(report.clean.accuracy).toBeGreaterThan(0.8);
    expect(report.results[1]!.accuracy).toBeLessThan(report.results[0]!.accuracy);
    expect(report.results[1]!.accuracy).toBeLessThan(0.2);
    model.dispose?.();
  });

  it('names the op without a gradient and points to a score-based attack', async () => {
    const model = await loadModel(fixtureModelPath('mnist-linear-graph-sliced'));
    expect(model.gradientUnavailable).toBe('op StridedSlice has no gradient in TF.js');
    await expect(evaluate(model, data, [fgsm()], [0.1])).rejects.toThrow(/has none \(op StridedSlice has no gradient in TF\.js\): use a score-based attack \(--attack square\)/);
    model.dispose?.();
  });
});
