import type { SyncAttack } from '../src/types.js';
import { gradientDescentAttack } from './gradient-descent.js';
import { attackName, resolveNorm, type LoopOptions } from './options.js';

/**
 * PGD — Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards Deep Learning Models Resistant to
 * Adversarial Attacks", ICLR 2018 (arXiv:1706.06083). Uniform random start in the ε-ball, then
 * projected steps; restarts keep the per-example worst case. L∞ by default, L2 with norm: 'l2'.
 * Defaults: 40 steps of 2.5·ε/steps (Madry et al.'s rule that lets a run cross the ball 2.5 times,
 * so that changing --steps keeps a sensible schedule), one restart.
 */
export function pgd(options: LoopOptions = {}): SyncAttack {
  const norm = resolveNorm(options.norm, 'linf');
  const steps = options.steps ?? 40;
  return gradientDescentAttack(attackName('pgd', norm, 'linf'), norm, {
    steps,
    relStepsize: options.relStepsize ?? 2.5 / steps,
    ...(options.absStepsize !== undefined ? { absStepsize: options.absStepsize } : {}),
    randomStart: true,
    loss: options.loss ?? 'ce',
    restarts: options.restarts ?? 1,
  });
}
