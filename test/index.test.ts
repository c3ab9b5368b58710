import { beforeAll, describe, expect, it } from 'vitest';
import { datasets, evaluate, fgsm, loadModel, balancedSubset, renderText } from '../src/index.js';
import { fixtureModelPath } from '../src/package-info.js';
import { useTestBackend } from './helpers/backend.js';

describe('the library API', () => {
  beforeAll(useTestBackend);

  it('does from TypeScript what `advtest eval` does', async () => {
    const model = await loadModel(fixtureModelPath('mnist-cnn'));
    const data = balancedSubset(datasets.mnist('test'), 50);
    const report = await evaluate(model, data, [fgsm()], [0.1, 0.3], { seed: 1 });
    expect(report.clean.n).toBe(50);
    expect(report.results.map((r) => r.eps)).toEqual([0.1, 0.3]);
    expect(renderText(report)).toMatch(/attack \(linf\)[\s\S]*│ fgsm /);
    model.dispose?.();
  });
});
