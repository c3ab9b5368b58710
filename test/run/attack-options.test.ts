import { describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { rebuildAttack } from '../../src/report/rebuild-attack.js';
import { attacksFrom, pickAttackOptions } from '../../src/run/attack-options.js';
import type { Attack } from '../../src/types.js';

const described = (a: Attack) => ({ name: a.name, norm: a.norm.name, config: a.config });

describe('attack options from the table', () => {
  it('a worker request carries every given option and nothing else', () => {
    const opts = { attack: 'apgd-t', targets: '3', placement: 'fixed', inputDiversity: '0.5', bpda: false, mode: 'sequential' as const, workers: '2', model: 'm' };
    expect(pickAttackOptions(opts)).toEqual({ attack: 'apgd-t', mode: 'sequential', targets: '3', placement: 'fixed', inputDiversity: '0.5' });
  });

  it('wraps input diversity innermost, then EOT, then BPDA, whatever the table order', () => {
    expect(attacksFrom({ attack: 'bim', bpda: true, eot: '2', inputDiversity: '0.5' }).attacks[0]!.name).toBe('bim+di0.5+eot2+bpda');
  });

  it('keeps the messages of the options it parses', () => {
    expect(() => attacksFrom({ attack: 'patch', placement: 'middle' })).toThrow('--placement "middle": use random or fixed');
    expect(() => attacksFrom({ attack: 'uap', eot: '2' })).toThrow(/fits one perturbation on the model as it is: drop --eot and --bpda/);
    expect(() => attacksFrom({ attack: 'di-fgsm', inputDiversity: '0.7' })).toThrow(/di-fgsm has the paper's p = 0.5/);
  });

  it('a report of apgd-t --targets 3 rebuilds with 3 targets', () => {
    const attack = makeAttack('apgd-t', { targets: 3, steps: 5 });
    expect(described(rebuildAttack(described(attack)))).toEqual(described(attack));
  });
});
