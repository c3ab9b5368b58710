import { describe, expect, it } from 'vitest';
import { specDifferences } from '../../src/regression/differences.js';
import type { EvaluationSpec } from '../../src/regression/baseline-file.js';

const base: EvaluationSpec = {
  data: 'mnist',
  split: 'test',
  limit: 300,
  request: { attack: 'fgsm' },
  attacks: [{ name: 'fgsm', norm: 'linf', config: { steps: 1 } }],
  mode: 'independent',
  epsilons: [0.1, 8 / 255],
  seed: 0,
  batchSize: 128,
  target: 'untargeted',
};

describe('specDifferences', () => {
  it('finds none between equal specs', () => {
    expect(specDifferences(base, structuredClone(base))).toEqual([]);
  });

  it('names each difference with both values', () => {
    const now: EvaluationSpec = {
      ...base,
      data: 'fashion-mnist',
      limit: undefined,
      attacks: [{ name: 'fgm', norm: 'l2', config: { steps: 1 } }],
      epsilons: [0.3],
      mode: 'sequential',
      transform: 'bit-depth=3',
      seed: 3,
      target: 'least-likely',
    };
    expect(specDifferences(base, now)).toEqual([
      'data: baseline mnist; now fashion-mnist',
      'limit: baseline 300; now (none)',
      'attacks: baseline fgsm; now fgm',
      'suite mode: baseline independent; now sequential',
      'input transform: baseline (none); now bit-depth=3',
      'ε: baseline 0.1, 8/255; now 0.3',
      'seed: baseline 0; now 3',
      'target: baseline untargeted; now targeted:least-likely',
    ]);
  });

  it('notices an attack whose settings changed under the same name', () => {
    const now = { ...base, attacks: [{ name: 'fgsm', norm: 'linf', config: { steps: 10 } }] };
    expect(specDifferences(base, now)).toEqual(['attack fgsm settings: baseline {"config":{"steps":1},"norm":"linf"}; now {"config":{"steps":10},"norm":"linf"}']);
  });
});
