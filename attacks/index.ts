import { UserError } from '../src/errors.js';
import type { Attack } from '../src/types.js';
import { apgd } from './apgd.js';
import { bim } from './bim.js';
import { fgm, fgsm } from './fgsm.js';
import { miFgsm } from './mi-fgsm.js';
import type { LoopOptions } from './options.js';
import { pgd } from './pgd.js';
import { square } from './square.js';

export { apgd, apgdCheckpoints } from './apgd.js';
export { bpda, eot } from './adaptive.js';
export { bim } from './bim.js';
export { fgm, fgsm } from './fgsm.js';
export { miFgsm } from './mi-fgsm.js';
export { pgd } from './pgd.js';
export { square } from './square.js';
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
  'apgd-ce': (o) => apgdFrom(o, 'ce'),
  'apgd-dlr': (o) => apgdFrom(o, 'dlr'),
  square: (o) => {
    if (o.norm === 'l2') throw new UserError('square is implemented for L∞ only: use --norm linf');
    return square(o.queries !== undefined ? { queries: o.queries } : {});
  },
};

/** APGD takes steps, restarts and the norm; its step size is its own (the point of APGD). */
function apgdFrom(o: AttackOptions, loss: 'ce' | 'dlr'): Attack {
  if (o.loss !== undefined && o.loss !== loss) throw new UserError(`apgd-${loss} uses the ${loss} loss: use apgd-${o.loss} for --loss ${o.loss}`);
  if (o.absStepsize !== undefined || o.relStepsize !== undefined) throw new UserError('APGD chooses its own step size: drop --step-size');
  return apgd({ loss, ...(o.norm ? { norm: o.norm } : {}), ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.restarts !== undefined ? { restarts: o.restarts } : {}) });
}

const SINGLE_STEP = new Set(['fgsm', 'fgm']);
/** Members that choose their own step size or take none. */
const OWN_STEP = new Set(['apgd-ce', 'apgd-dlr', 'square']);

/** Named suites: evaluated sequentially, each attack on the examples the earlier ones left standing. */
export const PRESETS: Record<string, string[]> = {
  // AutoAttack's standard suite with PGD in front (cheap, and it removes the easy examples).
  strong: ['pgd', 'apgd-ce', 'apgd-dlr', 'square'],
};

export function makeAttack(name: string, options: AttackOptions = {}): Attack {
  const factory = ATTACK_REGISTRY[name];
  if (!factory) {
    throw new UserError(`unknown attack "${name}": use one of ${[...Object.keys(ATTACK_REGISTRY), ...Object.keys(PRESETS)].join(', ')}`);
  }
  return factory(options);
}

/**
 * The members of a suite with the options that apply to each: single-step attacks take no
 * iteration options, APGD and Square choose their own step and loss.
 */
function membersOf(names: string[], options: AttackOptions): Attack[] {
  return names.map((n) => {
    if (names.length === 1) return makeAttack(n, options);
    if (SINGLE_STEP.has(n)) return makeAttack(n, options.loss ? { loss: options.loss } : {});
    if (OWN_STEP.has(n)) {
      const { absStepsize: _a, relStepsize: _r, loss: _l, ...rest } = options;
      void _a;
      void _r;
      void _l;
      return makeAttack(n, rest);
    }
    return makeAttack(n, options);
  });
}

/** Parses "fgsm,pgd" or a preset name; a list of several attacks is a suite. */
export function parseAttackSpec(list: string, options: AttackOptions = {}): { attacks: Attack[]; preset?: string } {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UserError(`--attack "${list}" names no attack: use e.g. --attack fgsm`);
  const preset = names.length === 1 ? PRESETS[names[0]!] : undefined;
  if (preset) return { attacks: membersOf(preset, options), preset: names[0]! };
  return { attacks: membersOf(names, options) };
}

/** The attacks of "fgsm,pgd" or of a preset. */
export function makeAttacks(list: string, options: AttackOptions = {}): Attack[] {
  return parseAttackSpec(list, options).attacks;
}
