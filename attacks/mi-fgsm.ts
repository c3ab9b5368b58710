import type { SyncAttack } from '../src/types.js';
import { gradientDescentAttack } from './gradient-descent.js';
import { attackName, resolveNorm, type LoopOptions } from './options.js';

/**
 * MI-FGSM — Dong, Liao, Pang, Su, Zhu, Hu & Li, "Boosting Adversarial Attacks with Momentum",
 * CVPR 2018 (arXiv:1710.06081). g ← μ·g + ∇ₓL/‖∇ₓL‖₁ (per example, Dong's eq. 6 — not
 * torchattacks' mean-absolute or foolbox's sign accumulation), x ← Π(x + α·sign(g)).
 * Defaults as the paper: μ = 1, 10 steps of ε/10, no random start.
 */
export function miFgsm(options: LoopOptions & { decay?: number } = {}): SyncAttack {
  const norm = resolveNorm(options.norm, 'linf');
  const steps = options.steps ?? 10;
  return gradientDescentAttack(attackName('mi-fgsm', norm, 'linf'), norm, {
    steps,
    relStepsize: options.relStepsize ?? 1 / steps,
    ...(options.absStepsize !== undefined ? { absStepsize: options.absStepsize } : {}),
    randomStart: false,
    momentum: options.decay ?? 1,
    loss: options.loss ?? 'ce',
    restarts: options.restarts ?? 1,
  });
}
