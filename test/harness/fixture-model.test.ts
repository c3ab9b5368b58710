import { beforeAll, describe, expect, it } from 'vitest';
import { fgm, fgsm } from '../../attacks/fgsm.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

/** Everything but the wall-clock fields, which live in `timings` by design. */
function withoutTimings(r: Report): Omit<Report, 'timings'> {
  const { timings: _t, ...rest } = r;
  void _t;
  return rest;
}

describe('the undefended fixture mnist-cnn', () => {
  let model: Classifier;
  const test = loadMnist('test');
  const small = balancedSubset(test, 300);
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  it('falls below 10% accuracy under FGSM at ε = 0.3 on the full test split', async () => {
    // CleverHans' MNIST tutorial test asserts < 5% FGSM (ε = 0.3) accuracy for its plain model
    // (cleverhans/tests/test_mnist_tutorial_tf.py); the issue sets 10% for ours.
    const report = await evaluate(model, test, [fgsm()], [0.3]);
    expect(report.clean.accuracy).toBeGreaterThan(0.95);
    expect(report.results[0]!.accuracy).toBeLessThan(0.1);
  });

  it('loses accuracy as ε grows, and keeps every example within budget and box', async () => {
    const epsilons = [0, 0.05, 0.1, 0.2, 0.3];
    const report = await evaluate(model, small, [fgsm(), fgm()], epsilons);
    for (const name of ['fgsm', 'fgm']) {
      const acc = report.results.filter((r) => r.attack === name).map((r) => r.accuracy);
      for (let i = 1; i < acc.length; i++) expect(acc[i]).toBeLessThanOrEqual(acc[i - 1]!);
    }
    const fgsmAcc = report.results.filter((r) => r.attack === 'fgsm').map((r) => r.accuracy);
    expect(fgsmAcc[0]).toBe(report.clean.accuracy);
    expect(fgsmAcc.at(-1)!).toBeLessThan(fgsmAcc[0]! - 0.5);
    for (const cell of report.examples.results) {
      const budget = cell.attack === 'fgsm' ? cell.linf : cell.l2;
      expect(Math.max(...budget)).toBeLessThanOrEqual(cell.eps + 1e-6);
    }
  });

  it('gives identical reports for the same seed (timings aside)', async () => {
    const a = await evaluate(model, balancedSubset(test, 100), [fgsm()], [0.1, 0.3], { seed: 4 });
    const b = await evaluate(model, balancedSubset(test, 100), [fgsm()], [0.1, 0.3], { seed: 4 });
    expect(JSON.stringify(withoutTimings(a))).toBe(JSON.stringify(withoutTimings(b)));
  });

  it('evaluates without leaking tensors', async () => {
    expect(await leakedTensors(() => evaluate(model, balancedSubset(test, 50), [fgsm(), fgm()], [0.1], { batchSize: 16 }))).toBe(0);
  });
});
