import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import type { EvaluationSpec } from '../../src/regression/baseline-file.js';
import { attacksFrom } from '../../src/run/attack-options.js';
import { attackRequest, checkNoRepeats, storedAttacks, evaluationHash, resolveDataSpec, resolveStoredPath, storedDataSpec, storedPath } from '../../src/regression/spec.js';

const spec: EvaluationSpec = {
  data: 'mnist',
  split: 'test',
  limit: 100,
  request: { attack: 'fgsm' },
  attacks: [{ name: 'fgsm', norm: 'linf', config: { steps: 1 } }],
  mode: 'independent',
  epsilons: [0.1],
  seed: 0,
  batchSize: 128,
  target: 'untargeted',
};

describe('evaluation specs', () => {
  it('hash the canonical JSON: key order does not matter, every setting does', () => {
    const reordered: EvaluationSpec = { target: 'untargeted', batchSize: 128, seed: 0, epsilons: [0.1], mode: 'independent', attacks: spec.attacks, request: { attack: 'fgsm' }, limit: 100, split: 'test', data: 'mnist' };
    expect(evaluationHash(reordered)).toBe(evaluationHash(spec));
    expect(evaluationHash(spec)).toMatch(/^[0-9a-f]{64}$/);
    expect(evaluationHash({ ...spec, seed: 1 })).not.toBe(evaluationHash(spec));
    expect(evaluationHash({ ...spec, attacks: [{ ...spec.attacks[0]!, config: { steps: 2 } }] })).not.toBe(evaluationHash(spec));
  });

  it('store paths relative to the baseline folder, with forward slashes, and resolve them back', () => {
    const dir = path.resolve('/repo/ci');
    expect(storedPath('/repo/models/std', dir)).toBe('../models/std');
    expect(storedPath('/repo/ci', dir)).toBe('.');
    expect(resolveStoredPath('../models/std', dir)).toBe(path.resolve('/repo/models/std'));
    expect(storedDataSpec('folder:/repo/data/digits', dir)).toBe('folder:../data/digits');
    expect(resolveDataSpec('folder:../data/digits', dir)).toBe('folder:' + path.resolve('/repo/data/digits'));
    expect(storedDataSpec('mnist', dir)).toBe('mnist');
  });

  it('refuse an ε listed twice', () => {
    expect(() => checkNoRepeats({ ...spec, epsilons: [0.1, 0.1] })).toThrow(/--eps lists 0.1 twice/);
  });

  it('keep only the attack options given, and rebuild attacks with the CLI\'s parser', () => {
    const request = attackRequest({ attack: 'pgd', steps: '5', bpda: false, mode: 'sequential' });
    expect(request).toEqual({ attack: 'pgd', steps: '5' });
    const { attacks, mode } = attacksFrom(request);
    expect(attacks.map((a) => a.name)).toEqual(['pgd']);
    expect(attacks[0]!.config.steps).toBe(5);
    expect(mode).toBe('independent');
    expect(attacksFrom({ attack: 'fgsm,fgm' }).mode).toBe('sequential');
    expect(attacksFrom({ attack: 'fgsm,fgm', mode: 'independent' }).mode).toBe('independent');
    expect(storedAttacks([fgsm()])).toEqual([{ name: 'fgsm', norm: 'linf', config: fgsm().config }]);
  });
});
