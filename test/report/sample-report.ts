import type { AttackResult, Proportion, Report } from '../../src/harness/report-types.js';
import type { Leaderboard } from '../../src/report/leaderboard.js';
import type { RegressionTable } from '../../src/report/regression-table.js';

/** 95% Wilson intervals for k of 6, written out (not computed) so that the tests stand alone. */
const WILSON_OF_6: Record<number, [number, number]> = {
  0: [0, 0.390334],
  1: [0.030053, 0.563503],
  3: [0.187616, 0.812384],
  4: [0.299993, 0.903229],
  5: [0.436497, 0.969947],
};

const of6 = (k: number): Proportion => ({ correct: k, n: 6, accuracy: Number((k / 6).toFixed(6)), interval: WILSON_OF_6[k]! });

function result(attack: string, eps: number, robust: number, success: number, linf: number, l2: number, gradients: number): AttackResult {
  return {
    attack,
    norm: 'linf',
    eps,
    ...of6(robust),
    quantized: of6(robust),
    success: { count: success, of: 5, rate: success / 5 },
    attacked: 5,
    perturbation: { meanLinf: linf, maxLinf: linf, meanL2: l2, maxL2: l2 },
    costs: { gradients, queries: gradients },
  };
}

/**
 * A hand-made report: six examples (labels 0–5; example 5 is misclassified clean), FGSM and PGD
 * at ε = 0.1 and 0.3, independent mode. Example 2 falls to FGSM at 0.1, example 3 to PGD at 0.1,
 * examples 0 and 1 at 0.3, example 4 holds throughout.
 */
export function sampleReport(): Report {
  const fgsm01 = [0, 1, 7, 3, 4, 9];
  const fgsm03 = [0, 8, 7, 3, 4, 9];
  const pgd01 = [0, 1, 7, 5, 4, 9];
  const pgd03 = [6, 8, 7, 5, 4, 9];
  const zeros = [0, 0, 0, 0, 0, 0];
  const cell = (attack: string, eps: number, predictions: number[]) => ({
    attack,
    eps,
    predictions,
    quantizedPredictions: predictions,
    linf: zeros.map(() => eps),
    l2: zeros.map(() => eps * 20),
    attacked: [1, 1, 1, 1, 1, 0],
  });
  return {
    format: 'advtest-report/1',
    tool: { name: 'advtest', version: '0.1.0' },
    versions: { node: '20.0.0', tfjs: '4.22.0' },
    backend: { name: 'wasm', tfjsVersion: '4.22.0', fastKernels: true },
    seed: 7,
    configHash: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
    config: {
      attacks: [
        { name: 'fgsm', norm: 'linf', config: { steps: 1, relStepsize: 1, randomStart: false, loss: 'ce', restarts: 1 } },
        { name: 'pgd', norm: 'linf', config: { steps: 10, relStepsize: 0.25, randomStart: true, loss: 'ce', restarts: 1 } },
      ],
      epsilons: [0.1, 0.3],
      batchSize: 128,
      target: 'untargeted',
      mode: 'independent',
    },
    model: { path: 'models/tiny', arch: 'mlp' },
    data: { name: 'mnist', split: 'test', size: 6, shape: [28, 28, 1], fingerprint: 'f'.repeat(64), subset: 'class-balanced subset of 6' },
    clean: of6(5),
    results: [
      result('fgsm', 0.1, 4, 1, 0.1, 2, 5),
      result('fgsm', 0.3, 3, 2, 0.3, 6, 5),
      result('pgd', 0.1, 3, 2, 0.1, 1.5, 50),
      result('pgd', 0.3, 1, 4, 0.3, 4.5, 50),
    ],
    worstCase: [
      { eps: 0.1, ...of6(3), quantized: of6(3) },
      { eps: 0.3, ...of6(1), quantized: of6(1) },
    ],
    curves: [
      { attack: 'fgsm', points: [], normalizedArea: 0.583333 },
      { attack: 'pgd', points: [], normalizedArea: 0.333333 },
      { attack: 'worst case', points: [], normalizedArea: 0.333333 },
    ],
    sanity: [
      { id: 'monotone:fgsm', ok: true, message: 'fgsm: accuracy does not rise as ε grows' },
      { id: 'unbounded', ok: false, message: 'pgd leaves 20% accuracy at ε = 1 | the whole range', advice: 'use more steps' },
    ],
    examples: {
      ids: ['t/0', 't/1', 't/2', 't/3', 't/4', 't/5'],
      labels: [0, 1, 2, 3, 4, 5],
      cleanPredictions: [0, 1, 2, 3, 4, 9],
      results: [cell('fgsm', 0.1, fgsm01), cell('fgsm', 0.3, fgsm03), cell('pgd', 0.1, pgd01), cell('pgd', 0.3, pgd03)],
      fellAt: [0.3, 0.3, 0.1, 0.1, null, 0],
    },
    timings: { totalSeconds: 12.5, results: [], createdAt: '2025-01-02T03:04:05.000Z' },
  };
}

export function sampleLeaderboard(): Leaderboard {
  const e = (accuracy: number, lo: number, hi: number) => ({ accuracy, interval: [lo, hi] as [number, number] });
  return {
    eps: 0.3,
    norm: 'linf',
    attacks: ['fgsm', 'pgd'],
    rows: [
      { name: 'standard', clean: e(0.99, 0.98, 0.995), attacks: { fgsm: e(0.1, 0.08, 0.12), pgd: e(0, 0, 0.004) }, worstCase: e(0, 0, 0.004), trainingSeconds: 60 },
      { name: 'adv|trained', clean: e(0.98, 0.97, 0.99), attacks: { fgsm: e(0.9, 0.88, 0.92), pgd: e(0.89, 0.87, 0.91) }, worstCase: e(0.885, 0.865, 0.905), trainingSeconds: 3600 },
      { name: 'smoothed', clean: e(0.95, 0.94, 0.96), attacks: { fgsm: e(0.5, 0.47, 0.53) }, worstCase: e(0.5, 0.47, 0.53) },
    ],
  };
}

export function sampleRegression(): RegressionTable {
  const e = (accuracy: number, lo: number, hi: number) => ({ accuracy, interval: [lo, hi] as [number, number] });
  return {
    passed: false,
    rule: 'drop > 1.0 pts and p < 0.05, paired test',
    baseline: 'robustness.json',
    rows: [
      { figure: 'clean', before: e(0.97, 0.95, 0.98), after: e(0.97, 0.95, 0.98), change: 0, pValue: 1, verdict: 'unchanged' },
      { figure: 'fgsm (linf)', eps: 0.1, before: e(0.8, 0.75, 0.84), after: e(0.72, 0.67, 0.77), change: -0.08, pValue: 0.00002, verdict: 'regression' },
      { figure: 'worst case', eps: 0.1, before: e(0.8, 0.75, 0.84), after: e(0.81, 0.76, 0.85), change: 0.01, pValue: 0.7, verdict: 'improved' },
    ],
  };
}
