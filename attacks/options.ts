import { UserError } from '../src/errors.js';
import type { LossName } from '../src/tensor/loss.js';
import { NORMS } from '../src/tensor/norms.js';
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

export function resolveNorm(name: NormName | undefined, fallback: NormName): Norm {
  const norm = NORMS[name ?? fallback];
  if (!norm) throw new UserError(`unknown norm "${name}": use linf or l2`);
  return norm;
}

/** Attack names carry the norm when it is not the attack's usual one (pgd-l2). */
export function attackName(base: string, norm: Norm, usual: NormName): string {
  return norm.name === usual ? base : `${base}-${norm.name}`;
}
