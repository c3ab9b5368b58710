import { UserError } from '../src/errors.js';
import type { Attack } from '../src/types.js';
import { bim } from './bim.js';
import { fgm, fgsm } from './fgsm.js';
import { miFgsm } from './mi-fgsm.js';
import type { LoopOptions } from './options.js';
import { pgd } from './pgd.js';

export { bim } from './bim.js';
export { fgm, fgsm } from './fgsm.js';
export { miFgsm } from './mi-fgsm.js';
export { pgd } from './pgd.js';
export { gradientDescentAttack, type GradientDescentConfig } from './gradient-descent.js';
export type { LoopOptions } from './options.js';

/** Options the CLI passes to every attack; each attack takes what applies to it. */
export type AttackOptions = LoopOptions & { /** Query budget of score-based attacks. */ queries?: number };

function singleStep(name: string, make: (o: AttackOptions) => Attack, norm: 'linf' | 'l2'): (o: AttackOptions) => Attack {
  return (o) => {
    if (o.norm && o.norm !== norm) throw new UserError(`${name} is the ${norm === 'linf' ? 'L∞' : 'L2'} single-step attack: use ${name === 'fgsm' ? 'fgm' : 'fgsm'} for --norm ${o.norm}`);
    if (o.steps !== undefined && o.steps !== 1) throw new UserError(`${name} takes one step: use bim or pgd for --steps ${o.steps}`);
    return make(o);
  };
}

/** Attacks by the name the CLI accepts. */
export const ATTACK_REGISTRY: Record<string, (o: AttackOptions) => Attack> = {
  fgsm: singleStep('fgsm', (o) => fgsm(o.loss ? { loss: o.loss } : {}), 'linf'),
  fgm: singleStep('fgm', (o) => fgm(o.loss ? { loss: o.loss } : {}), 'l2'),
  bim: (o) => bim(o),
  pgd: (o) => pgd(o),
  'mi-fgsm': (o) => miFgsm(o),
};

const SINGLE_STEP = new Set(['fgsm', 'fgm']);

/** Named suites: evaluated sequentially, each attack on the examples the earlier ones left standing. */
export const PRESETS: Record<string, string[]> = {};

export function makeAttack(name: string, options: AttackOptions = {}): Attack {
  const factory = ATTACK_REGISTRY[name];
  if (!factory) {
    throw new UserError(`unknown attack "${name}": use one of ${[...Object.keys(ATTACK_REGISTRY), ...Object.keys(PRESETS)].join(', ')}`);
  }
  return factory(options);
}

/** Parses "fgsm,pgd" or a preset name; a list of several attacks is a suite. */
export function parseAttackSpec(list: string, options: AttackOptions = {}): { attacks: Attack[]; preset?: string } {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UserError(`--attack "${list}" names no attack: use e.g. --attack fgsm`);
  if (names.length === 1 && PRESETS[names[0]!]) {
    return { attacks: PRESETS[names[0]!]!.map((n) => makeAttack(n, options)), preset: names[0]! };
  }
  // In a suite, iteration options are meant for the iterative members.
  const singleStepOptions: AttackOptions = { ...(options.loss ? { loss: options.loss } : {}) };
  return { attacks: names.map((n) => makeAttack(n, names.length > 1 && SINGLE_STEP.has(n) ? singleStepOptions : options)) };
}

/** The attacks of "fgsm,pgd" or of a preset. */
export function makeAttacks(list: string, options: AttackOptions = {}): Attack[] {
  return parseAttackSpec(list, options).attacks;
}
