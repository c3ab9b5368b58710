import { describe, expect, it } from 'vitest';
import { bpda, eot } from '../../attacks/adaptive.js';
import { bim, fgsm, makeAttack, pgd, withInputDiversity } from '../../attacks/index.js';
import { rebuildAttack } from '../../src/report/rebuild-attack.js';
import type { Attack } from '../../src/types.js';

const describeAttack = (a: Attack) => ({ name: a.name, norm: a.norm.name, config: a.config });

describe('rebuildAttack', () => {
  it.each([
    ['fgsm', fgsm()],
    ['pgd with settings', pgd({ steps: 7, relStepsize: 0.3, restarts: 2 })],
    ['pgd-l2', pgd({ norm: 'l2', absStepsize: 0.5 })],
    ['pgd+eot3+bpda', bpda(eot(pgd({ steps: 5 }), 3))],
    ['bim+di0.5', withInputDiversity(bim({ steps: 5 }), 0.5)],
    ['di-fgsm', makeAttack('di-fgsm')],
    ['pgd --loss cw=50', pgd({ loss: 'cw=50' })],
  ])('rebuilds %s from its stored description', (_, attack) => {
    const rebuilt = rebuildAttack(describeAttack(attack));
    expect(describeAttack(rebuilt)).toEqual(describeAttack(attack));
  });

  it('refuses a description it cannot reproduce exactly', () => {
    const stored = describeAttack(pgd());
    expect(() => rebuildAttack({ ...stored, config: { ...stored.config, randomStart: false } })).toThrow(/cannot rebuild attack "pgd".*--no-images/);
    expect(() => rebuildAttack({ ...stored, name: 'pgd+magic' })).toThrow(/unknown part "magic"/);
    expect(() => rebuildAttack({ ...stored, name: 'nope' })).toThrow(/unknown attack "nope"/);
  });
});
