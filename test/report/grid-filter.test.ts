import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { describeGridFilter, gridChoices, parseGridFilter, type GridChoices } from '../../src/report/grid-filter.js';
import { sampleReport } from './sample-report.js';

const choices: GridChoices = { attacks: ['fgsm', 'pgd'], epsilons: [0.1, 8 / 255], numClasses: 10, classNames: ['zero', '1', '2', '3', '4', '5', '6', '7', '8', 'nine'] };

function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('not refused');
}

describe('parseGridFilter', () => {
  it('reads every option, ε as written (8/255) and classes by number or name', () => {
    expect(parseGridFilter({ attack: 'pgd', eps: '8/255', robust: true, classes: '3, nine,zero,3' }, choices)).toEqual({ attack: 'pgd', eps: 8 / 255, fate: 'robust', classes: [3, 9, 0] });
    expect(parseGridFilter({ fooled: true, eps: '0.1' }, choices)).toEqual({ fate: 'fooled', eps: 0.1 });
    expect(parseGridFilter({}, choices)).toEqual({});
  });

  it('refuses a value the run does not have, naming it and the choices', () => {
    expect(refused(() => parseGridFilter({ attack: 'cw' }, choices))).toBe('--attack "cw" is not an attack of this run: choose one of fgsm, pgd');
    expect(refused(() => parseGridFilter({ eps: '0.2' }, choices))).toBe('--eps "0.2" is not an ε of this run: choose one of 0.1, 8/255');
    expect(refused(() => parseGridFilter({ eps: 'big' }, choices))).toMatch(/^--eps "big" is not a number/);
    expect(refused(() => parseGridFilter({ classes: '3,12' }, choices))).toBe('--classes: "12" is not a class of this model: choose among 0–9 or a class name');
    expect(refused(() => parseGridFilter({ classes: ' , ' }, choices))).toMatch(/^--classes " , " names no class/);
    expect(refused(() => parseGridFilter({ fooled: true, robust: true }, choices))).toMatch(/^--fooled and --robust exclude each other/);
    // eval's options carry a prefix, and the messages name them so.
    expect(refused(() => parseGridFilter({ attack: 'cw' }, choices, 'grid-'))).toMatch(/^--grid-attack "cw"/);
  });

  it('takes its choices from a report', () => {
    expect(gridChoices(sampleReport())).toEqual({ attacks: ['fgsm', 'pgd'], epsilons: [0.1, 0.3], numClasses: 10 });
    expect(describeGridFilter({ fate: 'robust', attack: 'pgd', eps: 0.3, classes: [3, 5] })).toBe('held, pgd, ε=0.3, classes 3, 5');
  });
});
