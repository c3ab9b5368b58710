import { UserError } from '../src/errors.js';
import type { Attack } from '../src/types.js';
import { fgm, fgsm } from './fgsm.js';

export { fgm, fgsm } from './fgsm.js';
export { gradientDescentAttack, type GradientDescentConfig } from './gradient-descent.js';

/** Attacks by the name the CLI accepts. */
export const ATTACK_REGISTRY: Record<string, () => Attack> = {
  fgsm,
  fgm,
};

export function makeAttack(name: string): Attack {
  const factory = ATTACK_REGISTRY[name];
  if (!factory) {
    throw new UserError(`unknown attack "${name}": use one of ${Object.keys(ATTACK_REGISTRY).join(', ')}`);
  }
  return factory();
}

export function makeAttacks(list: string): Attack[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UserError(`--attack "${list}" names no attack: use e.g. --attack fgsm`);
  return names.map(makeAttack);
}
