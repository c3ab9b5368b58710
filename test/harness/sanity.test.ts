import { beforeAll, describe, expect, it } from 'vitest';
import { bpda } from '../../attacks/adaptive.js';
import { bim } from '../../attacks/bim.js';
import { fgsm } from '../../attacks/fgsm.js';
import { pgd } from '../../attacks/pgd.js';
import { bitDepth } from '../../defenses/bit-depth.js';
import { gaussianNoise } from '../../defenses/noise-injection.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { AttackResult, Report } from '../../src/harness/report-types.js';
import { sanityChecks } from '../../src/harness/sanity.js';
import { withInputTransform } from '../../src/model/input-transform.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { AttackKind, Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

const flag = (r: Report, id: string) => r.sanity?.find((c) => c.id === id);

function result(attack: string, eps: number, accuracy: number, n = 100): AttackResult {
  const correct = Math.round(accuracy * n);
  return {
    attack,
    norm: 'linf',
    eps,
    correct,
    n,
    accuracy,
    interval: [0, 1],
    quantized: { correct, n, accuracy, interval: [0, 1] },
    success: { count: 0, of: n, rate: 0 },
    attacked: n,
    perturbation: { meanLinf: 0, maxLinf: 0, meanL2: 0, maxL2: 0 },
    costs: { gradients: 0, queries: 0 },
  };
}

describe('sanity checks on hand-made results', () => {
  const kinds = new Map<string, AttackKind>([
    ['fgsm', 'single-step'],
    ['pgd', 'iterative'],
    ['square', 'black-box'],
  ]);

  it('flags accuracy rising with ε, a single step beating an iterative attack, and black-box beating white-box', () => {
    const checks = sanityChecks(
      [result('fgsm', 0.1, 0.5), result('fgsm', 0.2, 0.6), result('pgd', 0.1, 0.7), result('pgd', 0.2, 0.4), result('square', 0.1, 0.3), result('square', 0.2, 0.2)],
      kinds,
      'independent',
    );
    const failed = checks.filter((c) => !c.ok).map((c) => c.id);
    expect(failed).toEqual(['monotone:fgsm', 'iterative-beats-single-step', 'white-box-beats-black-box']);
    for (const c of checks.filter((c) => !c.ok)) expect(c.advice).toBeTruthy();
  });

  it('passes a healthy evaluation', () => {
    const checks = sanityChecks([result('fgsm', 0.1, 0.6), result('fgsm', 0.2, 0.3), result('pgd', 0.1, 0.4), result('pgd', 0.2, 0.1), result('square', 0.1, 0.5), result('square', 0.2, 0.2)], kinds, 'independent');
    expect(checks.every((c) => c.ok)).toBe(true);
  });
});

describe('sanity checks on real models', () => {
  let model: Classifier;
  const data = balancedSubset(loadMnist('test'), 60);
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  it('flag a model that rounds its input (zero gradients, unbounded ε above chance), and BPDA then breaks it', async () => {
    const rounded = withInputTransform(model, bitDepth(3));
    const plain = await evaluate(rounded, data, [pgd({ steps: 10 })], [0.3]);
    expect(flag(plain, 'nonzero-gradients')?.ok).toBe(false);
    expect(flag(plain, 'unbounded-eps')?.ok).toBe(false);
    // Masked: plain PGD leaves most of the examples standing.
    expect(plain.results[0]!.accuracy).toBeGreaterThan(0.8);
    const adaptive = await evaluate(rounded, data, [bpda(pgd({ steps: 10 }))], [0.3]);
    expect(adaptive.results[0]!.accuracy).toBeLessThan(0.05);
    expect(flag(adaptive, 'unbounded-eps')?.ok).toBe(true);
  });

  it('flag a randomised model (two identical forward passes disagree)', async () => {
    const noisy = withInputTransform(model, gaussianNoise(0.1, 1));
    const report = await evaluate(noisy, balancedSubset(data, 20), [fgsm()], [0.1]);
    expect(flag(report, 'deterministic')?.ok).toBe(false);
    expect(flag(report, 'deterministic')?.advice).toMatch(/EOT/);
  });

  it('pass on the undefended fixture with an iterative attack', async () => {
    const report = await evaluate(model, balancedSubset(data, 30), [fgsm(), bim()], [0.1, 0.2, 0.3]);
    expect(report.sanity!.filter((c) => !c.ok)).toEqual([]);
  });
});
