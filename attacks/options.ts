import { UserError } from '../src/errors.js';
import type { LossName } from '../src/tensor/loss.js';
import { DENSE_NORMS, NORMS } from '../src/tensor/norms.js';
import type { Norm, NormName } from '../src/types.js';

/** What a user may override on any configuration of the projected-gradient loop. */
export interface LoopOptions {
  norm?: NormName;
  steps?: number;
  /** Step size as a fraction of ε. */
  relStepsize?: number;
  /** Absolute step size; overrides relStepsize. */
  absStepsize?: number;
  restarts?: number;
  loss?: LossName;
}

/**
 * The norm of a gradient-loop attack: L∞ or L2 only, so that an l0 or patch run can never be
 * computed (and checked) as another norm by an attack that does not know it.
 */
export function resolveNorm(name: NormName | undefined, fallback: NormName): Norm {
  const chosen = name ?? fallback;
  const norm = NORMS[chosen];
  if (!norm) throw new UserError(`unknown norm "${name}": use linf or l2`);
  if (chosen === 'l1') throw new UserError(`--norm l1 is for the minimal attacks: use --attack fmn, fab or fab-t, or --norm linf|l2`);
  if (!DENSE_NORMS.includes(chosen)) throw new UserError(`--norm ${chosen} is a sparse threat model this attack does not support: use --attack sparse-rs or fmn for l0 (or --attack patch), or --norm linf|l2`);
  return norm;
}

/** Attack names carry the norm when it is not the attack's usual one (pgd-l2). */
export function attackName(base: string, norm: Norm, usual: NormName): string {
  return norm.name === usual ? base : `${base}-${norm.name}`;
}
