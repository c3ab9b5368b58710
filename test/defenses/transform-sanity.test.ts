import { beforeAll, describe, expect, it } from 'vitest';
import { bpda } from '../../attacks/adaptive.js';
import { fgsm } from '../../attacks/fgsm.js';
import { withTransformSpec } from '../../defenses/input-transforms.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

describe('input transforms in the harness', () => {
  let base: Classifier;
  beforeAll(async () => {
    await useTestBackend();
    base = await loadModel(fixtureModelPath('mnist-cnn'));
  });
  const data = () => balancedSubset(loadMnist('test'), 40);

  it('flags a non-adaptive attack on a transformed model, and not its BPDA version', async () => {
    const model = withTransformSpec(base, 'median=2');
    const report = await evaluate(model, data(), [fgsm(), bpda(fgsm())], [0.2], { seed: 0, probes: false });
    const flag = report.sanity!.find((c) => c.id === 'adaptive-to-transform')!;
    expect(flag.ok).toBe(false);
    expect(flag.message).toMatch(/attack not adaptive to the input transform median=2: fgsm differentiates through it/);
    const adaptive = await evaluate(model, data(), [bpda(fgsm())], [0.2], { seed: 0, probes: false });
    expect(adaptive.sanity!.find((c) => c.id === 'adaptive-to-transform')!.ok).toBe(true);
  });

  it('JPEG: plain FGSM sees a zero gradient and reports robustness that BPDA takes away (judged through sharp)', async () => {
    const model = withTransformSpec(base, 'jpeg=75');
    expect(model.query).toBeDefined();
    const report = await evaluate(model, data(), [fgsm(), bpda(fgsm())], [0.2], { seed: 0 });
    const [plain, adaptive] = report.results;
    // A zero gradient leaves the images where they were: FGSM "fails" on everything.
    expect(plain!.accuracy).toBe(report.clean.accuracy);
    expect(adaptive!.accuracy).toBeLessThan(plain!.accuracy - 0.2);
    expect(report.sanity!.find((c) => c.id === 'nonzero-gradients')!.ok).toBe(false);
    expect(report.model).toMatchObject({ inputTransform: 'jpeg=75' });
  });
});
